"""The chat report (``salon report CHAT``): report.html and report.pdf of one scheduled chat.

Figures come from ``salon.campaigns.chat_stats.chat_report`` (posts, participants, answers per
question by rule, replies, first-time and returning participants over the series, top
contributors, institutions, platforms) and the transcript from
``salon.campaigns.chat_answers.chat_assignment``, the one function deciding who answered what.
Deleted posts, posts of opted-out authors and posts an editor hid are placeholders, as on every
public surface; reposts are counted, never listed.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from salon.campaigns.chat_answers import Assignment, ChatPost, chat_assignment
from salon.campaigns.chat_stats import chat_report
from salon.campaigns.chat_store import hidden_uids
from salon.campaigns.chats import Chat
from salon.publish.reports.campaign import _env, svg_img, write_pdf
from salon.publish.reports.charts import bars
from salon.store.archive import Archive

__all__ = ["chat_report_data", "render_chat", "write_chat_report"]


def _entry(p: ChatPost, hidden: set[str], extra: dict[str, Any] | None = None) -> dict[str, Any]:
    why = (
        "deleted"
        if p.deleted
        else "opted out"
        if p.opted_out
        else "hidden by an editor"
        if p.uid in hidden
        else None
    )
    e = {
        "uid": p.uid,
        "time": p.created_at.astimezone(UTC).strftime("%H:%M"),
        "platform": p.platform,
        "placeholder": why,
        "handle": None if why else (p.handle or p.author_uid),
        "text": None if why else p.text,
        "url": None if why else p.url,
    }
    return {**e, **(extra or {})}


def _transcript(a: Assignment, hidden: set[str]) -> dict[str, Any]:
    questions = []
    for q in a.questions:
        answers = [
            _entry(a.posts[x.uid], hidden, {"rule": x.rule, "flag": x.flag}) for x in a.answers_to(q.n)
        ]
        qpost = a.posts.get(q.uid) if q.uid else None
        questions.append(
            {
                "n": q.n,
                "text": q.text,
                "at": q.at.astimezone(UTC).strftime("%H:%M"),
                "post": _entry(qpost, hidden) if qpost else None,
                "answers": answers,
            }
        )
    conv = [_entry(a.posts[u], hidden) for u in a.conversation]
    return {"questions": questions, "conversation": conv}


def chat_report_data(archive: Archive, chat: Chat) -> dict[str, Any]:
    """Everything the chat report shows."""
    a = chat_assignment(archive, chat)
    return {
        "chat": chat,
        # accounts never named (a top contributor without handle may simply have none, like a DID)
        "opted_out": sorted({p.author_uid for p in a.posts.values() if p.opted_out and p.author_uid}),
        "stats": chat_report(archive, chat),
        "transcript": _transcript(a, hidden_uids(archive, chat.slug)),
        "generated_at": datetime.now(UTC).replace(microsecond=0).isoformat(),
    }


def render_chat(data: dict[str, Any]) -> str:
    """The chat report's HTML (self-contained, no script)."""
    s = data["stats"]
    per_q = s["answers_per_question"]
    chart = bars(
        [f"Q{q['n']}" for q in per_q],
        [q["thread"] for q in per_q],
        second=[q["marker"] for q in per_q],
        legend=("in the question's thread", "by marker (A1, R1, ...)"),
        height=2.2,
    )
    return str(_env().get_template("chat.html").render(d=data, chart=svg_img(chart, "answers per question")))


def write_chat_report(
    archive: Archive, chat: Chat, out_dir: str | Path, *, pdf: bool = True
) -> dict[str, Any]:
    """Write ``report.html`` (and ``report.pdf``) of ``chat`` into ``out_dir``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    data = chat_report_data(archive, chat)
    html = render_chat(data)
    (out / "report.html").write_text(html, encoding="utf-8")
    files = [out / "report.html"]
    if pdf:
        write_pdf(html, out / "report.pdf", out)
        files.append(out / "report.pdf")
    return {"files": [str(f) for f in files], "data": data}
