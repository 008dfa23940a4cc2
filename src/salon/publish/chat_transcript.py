"""A chat's transcript (``salon chat transcript``, the transcript page): by question (each
question's own post text, then its answers, each followed by its threaded replies) or by time,
as Markdown, HTML, CSV or the documented JSON (``Assignment.to_json``, docs/chats.md).

Every post links to its original; hosts are marked; deleted posts, posts of authors who opted
out of indexing and posts editors hid are placeholders; reposts are never listed. The figures
and the decision of what answers what come from ``salon.campaigns.chat_answers.assign``.
"""

from __future__ import annotations

import csv
import html
import io
import json
from dataclasses import dataclass, field
from typing import Any

from salon.campaigns.chat_answers import Assignment, ChatPost

__all__ = [
    "FORMATS",
    "Entry",
    "by_question",
    "by_time",
    "placeholder",
    "placeholder_code",
    "post_link",
    "public_json",
    "render",
]

FORMATS = ("md", "html", "csv", "json")


def post_link(p: ChatPost) -> str | None:
    """The post's page on its platform."""
    if p.url:
        return p.url
    if p.platform == "x":
        return f"https://x.com/i/status/{p.uid.removeprefix('x:')}"
    return None


PLACEHOLDER_TEXT = {
    "deleted": "deleted post",
    "opted_out": "post by an account that opted out of indexing",
    "hidden": "post hidden by the editors",
}


def placeholder_code(p: ChatPost, hidden: set[str]) -> str | None:
    """Why a public surface may not show the post (``deleted``, ``opted_out``, ``hidden``), or
    None when it may be shown. The one rule every transcript format and the web room follow."""
    if p.deleted:
        return "deleted"
    if p.opted_out:
        return "opted_out"
    if p.hidden or p.uid in hidden:
        return "hidden"
    return None


def placeholder(p: ChatPost, hidden: set[str]) -> str | None:
    """What a public surface shows instead of the post, or None when it may be shown."""
    code = placeholder_code(p, hidden)
    return PLACEHOLDER_TEXT[code] if code else None


def public_json(a: Assignment, hidden: set[str]) -> dict[str, Any]:
    """THE transcript JSON (docs/chats.md) as every surface publishes it -- ``salon chat
    transcript --format json``, ``/chats/SLUG/transcript.json``: a post no public surface may
    show (deleted, opted out, hidden by an editor) keeps its place as a placeholder without its
    uid (DESIGN.md, Opted out / Deleted): an answer becomes ``{"uid": null, "rule": ..., "flag":
    ..., "placeholder": "deleted"|"opted_out"|"hidden"}``, a conversation or untagged entry
    ``null``, a question post ``"uid": null`` with the question as written in the campaign file
    and ``"placeholder"``. Counts and order stay those of ``Assignment.to_json``."""
    j = a.to_json()
    code = {u: placeholder_code(p, hidden) for u, p in a.posts.items()}
    for q in j["questions"]:
        if q["uid"] is not None and code.get(q["uid"]):
            q["placeholder"] = code[q["uid"]]
            q["uid"] = None
            q["text"] = a.chat.questions[q["n"] - 1]
        for x in q["answers"]:
            if code.get(x["uid"]):
                x["placeholder"] = code[x["uid"]]
                x["uid"] = None
    j["conversation"] = [None if code.get(u) else u for u in j["conversation"]]
    j["untagged"] = [None if code.get(u) else u for u in j["untagged"]]
    return j


@dataclass
class Entry:
    """One post of a transcript with its role and (by question) its threaded replies."""

    post: ChatPost
    role: str  # question | answer | conversation | untagged
    n: int | None = None
    rule: str | None = None
    flag: str | None = None
    depth: int = 0
    replies: list[Entry] = field(default_factory=list)


def _entry(a: Assignment, uid: str, depth: int = 0) -> Entry:
    role = a.role(uid)
    ans = a.answers.get(uid)
    n = ans.n if ans else a.untagged.get(uid, a.question_uids().get(uid))
    return Entry(a.posts[uid], role, n, ans.rule if ans else None, ans.flag if ans else None, depth)


def by_question(a: Assignment) -> list[tuple[Any, list[Entry]]]:
    """[(Question, [top-level answers with their threaded replies nested])]. A reply is nested
    under the post it replies to when that post is listed under the same question; answers
    whose parent is not listed there are top-level."""
    listed = set(a.answers) | set(a.conversation) | set(a.untagged)
    children: dict[str, list[str]] = {}
    for u in listed:
        parent = a.posts[u].reply_to_uid
        if parent in listed:
            children.setdefault(parent, []).append(u)
    for v in children.values():
        v.sort(key=lambda u: (a.posts[u].created_at, u))
    out = []
    used: set[str] = set()

    def grow(e: Entry) -> Entry:
        for c in children.get(e.post.uid, []):
            if c not in used:
                used.add(c)
                e.replies.append(grow(_entry(a, c, e.depth + 1)))
        return e

    for q in a.questions:
        top = []
        for ans in a.answers_to(q.n):
            parent = a.posts[ans.uid].reply_to_uid
            if ans.uid in used or (parent in listed and parent not in a.question_uids()):
                continue
            used.add(ans.uid)
            top.append(grow(_entry(a, ans.uid)))
        # Untagged thread posts replying to the question itself.
        for u, n in sorted(a.untagged.items(), key=lambda kv: (a.posts[kv[0]].created_at, kv[0])):
            if n == q.n and u not in used and a.posts[u].reply_to_uid not in listed:
                used.add(u)
                top.append(grow(_entry(a, u)))
        top.sort(key=lambda e: (e.post.created_at, e.post.uid))
        out.append((q, top))
    # Answers whose parent was never reached (a reply to a conversation post, etc.).
    for q, top in out:
        for ans in a.answers_to(q.n):
            if ans.uid not in used:
                used.add(ans.uid)
                top.append(grow(_entry(a, ans.uid)))
    return out


def by_time(a: Assignment) -> list[Entry]:
    """Every listed post (questions, answers, conversation, untagged) in time order."""
    uids = set(a.question_uids()) | set(a.answers) | set(a.conversation) | set(a.untagged)
    return [_entry(a, u) for u in sorted(uids, key=lambda u: (a.posts[u].created_at, u))]


def conversation_entries(a: Assignment, under_answers: set[str]) -> list[Entry]:
    """Conversation posts not already nested under an answer."""
    return [_entry(a, u) for u in a.conversation if u not in under_answers]


def _flatten(entries: list[Entry]) -> list[Entry]:
    out = []
    for e in entries:
        out.append(e)
        out.extend(_flatten(e.replies))
    return out


def _who(p: ChatPost) -> str:
    return ("@" + p.handle) if p.handle else (p.author_uid or "?")


def _label(e: Entry) -> str:
    if e.role == "answer":
        s = f"A{e.n} ({e.rule})"
        return s + (" ⚠ thread/marker disagree" if e.flag else "")
    if e.role == "question":
        return f"Q{e.n}"
    if e.role == "untagged":
        return f"untagged, thread of Q{e.n}"
    return "conversation"


def _md_line(e: Entry, hidden: set[str]) -> str:
    p = e.post
    indent = "  " * e.depth
    ph = placeholder(p, hidden)
    when = p.created_at.strftime("%H:%M")
    if ph:
        return f"{indent}- {when} *[{ph}]*"
    host = " **(host)**" if p.is_host else ""
    link = post_link(p)
    text = " ".join((p.text or "").split())
    tail = f" [↗]({link})" if link else ""
    return f"{indent}- {when} {_who(p)}{host} ({p.platform}, {_label(e)}): {text}{tail}"


def _md(a: Assignment, by: str, hidden: set[str]) -> str:
    c = a.chat
    out = [
        f"# {c.title or c.slug} (#{c.hashtag})",
        "",
        f"{c.start_utc:%Y-%m-%d %H:%M} UTC, {c.minutes} minutes",
        "",
    ]
    if by == "time":
        out += [_md_line(e, hidden) for e in by_time(a)]
        return "\n".join(out) + "\n"
    nested: set[str] = set()
    for q, top in by_question(a):
        out += [f"## Q{q.n} · {' '.join(q.text.split())}", ""]
        flat = _flatten(top)
        nested |= {e.post.uid for e in flat}
        out += [_md_line(e, hidden) for e in flat] or ["*(no answers)*"]
        out.append("")
    conv = conversation_entries(a, nested)
    out += ["## Conversation", ""] + ([_md_line(e, hidden) for e in conv] or ["*(none)*"])
    return "\n".join(out) + "\n"


def _html_post(e: Entry, hidden: set[str]) -> str:
    p = e.post
    ph = placeholder(p, hidden)
    cls = f"chat-post role-{e.role}" + (" host" if p.is_host else "") + (" flagged" if e.flag else "")
    when = html.escape(p.created_at.strftime("%H:%M"))
    if ph:
        body = f'<span class="placeholder">{html.escape(ph)}</span>'
    else:
        link = post_link(p)
        who = html.escape(_who(p)) + (' <span class="badge host">host</span>' if p.is_host else "")
        a_open = f'<a href="{html.escape(link)}" rel="nofollow noopener">' if link else ""
        a_close = "</a>" if link else ""
        body = (
            f'<span class="who">{who}</span> <span class="platform">{html.escape(p.platform)}</span>'
            f' <span class="label">{html.escape(_label(e))}</span>'
            f' <p class="text">{html.escape(p.text or "")}</p> {a_open}<time>{when}</time>{a_close}'
        )
    kids = "".join(_html_post(r, hidden) for r in e.replies)
    kids = f'<ul class="replies">{kids}</ul>' if kids else ""
    return f'<li class="{cls}" data-uid="{html.escape(p.uid)}">{body}{kids}</li>'


def _html(a: Assignment, by: str, hidden: set[str]) -> str:
    c = a.chat
    title = html.escape(f"{c.title or c.slug} (#{c.hashtag})")
    parts = [f'<article class="chat-transcript"><h1>{title}</h1>']
    if by == "time":
        parts.append('<ul class="posts">' + "".join(_html_post(e, hidden) for e in by_time(a)) + "</ul>")
    else:
        nested: set[str] = set()
        for q, top in by_question(a):
            nested |= {e.post.uid for e in _flatten(top)}
            items = "".join(_html_post(e, hidden) for e in top) or '<li class="none">no answers</li>'
            parts.append(
                f'<section class="question" id="q{q.n}"><h2><span class="qn">Q{q.n}</span> {html.escape(q.text)}</h2>'
                f'<ul class="posts">{items}</ul></section>'
            )
        conv = "".join(_html_post(e, hidden) for e in conversation_entries(a, nested))
        parts.append(
            f'<section class="conversation"><h2>Conversation</h2><ul class="posts">{conv}</ul></section>'
        )
    parts.append("</article>")
    return "\n".join(parts) + "\n"


CSV_COLUMNS = (
    "uid",
    "created_at",
    "platform",
    "author",
    "host",
    "role",
    "question",
    "rule",
    "flag",
    "parent",
    "url",
    "text",
)


def _csv(a: Assignment, by: str, hidden: set[str]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(CSV_COLUMNS)
    if by == "time":
        entries = by_time(a)
    else:
        entries = []
        nested: set[str] = set()
        for q, top in by_question(a):
            qe = [_entry(a, u) for u in q.uids[:1]]
            flat = _flatten(top)
            nested |= {e.post.uid for e in flat}
            entries += qe + flat
        entries += conversation_entries(a, nested)
    for e in entries:
        p = e.post
        ph = placeholder(p, hidden)
        w.writerow(
            [
                p.uid,
                p.created_at.isoformat(),
                p.platform,
                "" if ph else _who(p),
                "yes" if p.is_host else "",
                e.role,
                e.n or "",
                e.rule or "",
                e.flag or "",
                p.reply_to_uid or "",
                "" if ph else (post_link(p) or ""),
                f"[{ph}]" if ph else (p.text or ""),
            ]
        )
    return buf.getvalue()


def render(a: Assignment, *, by: str = "question", fmt: str = "md", hidden: set[str] | None = None) -> str:
    """The transcript of ``a`` by ``question`` or ``time`` in ``md``, ``html``, ``csv`` or
    ``json`` (the documented shape, whatever ``by``)."""
    if by not in ("question", "time"):
        raise ValueError("by must be question or time")
    hidden = hidden or set()
    if fmt == "json":
        return json.dumps(public_json(a, hidden), ensure_ascii=False, indent=2) + "\n"
    if fmt == "md":
        return _md(a, by, hidden)
    if fmt == "html":
        return _html(a, by, hidden)
    if fmt == "csv":
        return _csv(a, by, hidden)
    raise ValueError(f"format must be one of {', '.join(FORMATS)}")
