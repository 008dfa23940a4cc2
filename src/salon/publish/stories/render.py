"""Story data (``salon.publish.stories.data``) to files: ``index.html`` (folder, with its
stylesheet and media beside it) or one self-contained HTML file, ``story.json`` and ``story.md``.

No script anywhere; a Content-Security-Policy in the page itself forbids every remote request
(so a browser opening it in 20 years loads nothing from anywhere); Markdown text blocks go
through markdown-it-py with raw HTML off, then nh3 with a small allow-list (no images, so a
curator's text cannot pull a remote picture into the page).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from importlib import resources
from typing import Any

import nh3
from jinja2 import Environment, PackageLoader, select_autoescape
from markdown_it import MarkdownIt
from markupsafe import Markup, escape

from salon.publish.stories.strings import say

__all__ = ["CSS", "render_html", "render_markdown", "sanitise_markdown", "story_json"]

_md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
_ALLOWED_TAGS = {
    "p", "br", "strong", "em", "b", "i", "a", "ul", "ol", "li", "blockquote", "code", "pre",
    "h3", "h4", "hr",
}  # fmt: skip


def sanitise_markdown(text: str) -> str:
    """Markdown to safe HTML: no raw HTML, scripts, styles, images or non-http(s)/mailto links;
    headings shifted below the story's own (h3, h4)."""
    html = _md.render(text or "")
    for n in (1, 2):
        html = html.replace(f"<h{n}>", "<h3>").replace(f"</h{n}>", "</h3>")
    for n in (5, 6):
        html = html.replace(f"<h{n}>", "<h4>").replace(f"</h{n}>", "</h4>")
    return nh3.clean(
        html,
        tags=_ALLOWED_TAGS,
        attributes={"a": {"href", "title"}},
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )


def _rich(pieces: list[dict[str, str]]) -> Markup:
    out = []
    for p in pieces:
        s = escape(p["s"])
        href = p.get("href")
        if href and href[:8].lower().startswith(("http://", "https://")):
            cls = {"hashtag": "p-category hashtag", "mention": "mention", "url": "link"}.get(p["t"], "link")
            out.append(f'<a class="{cls}" href="{escape(href)}" rel="nofollow noopener">{s}</a>')
        else:
            out.append(str(s))
    return Markup("".join(out))


_env = Environment(
    loader=PackageLoader("salon.publish.stories", "templates"),
    autoescape=select_autoescape(["html"], default=True),
    trim_blocks=False,
    lstrip_blocks=False,
    keep_trailing_newline=True,
)
_env.globals["md"] = lambda text: Markup(sanitise_markdown(text))
_env.globals["rich"] = _rich

CSS = (resources.files("salon.publish.stories") / "templates" / "story.css").read_text(encoding="utf-8")

# The page forbids any remote load; only its own stylesheet/images (folder) or inline ones
# (single file). No script source at all.
CSP_FOLDER = "default-src 'none'; img-src 'self' data:; style-src 'self'; base-uri 'none'; form-action 'none'"
CSP_SINGLE = (
    "default-src 'none'; img-src data:; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"
)


def render_html(
    data: dict[str, Any], *, single: bool, media_src: Callable[[dict[str, Any]], str | None]
) -> bytes:
    """The story page. ``single``: CSS inlined (images are whatever ``media_src`` gives, data:
    URIs then); else it links ``assets/story.css``. ``media_src(medium)`` is the image's src
    or None for a placeholder."""
    tpl = _env.get_template("story.html")

    def avatar_src(f: dict[str, Any] | None) -> str | None:
        return media_src({"file": f}) if f else None

    lang = data.get("lang") or "en"
    html = tpl.render(
        s=lambda key, **values: say(lang, key, **values),
        avatar_src=avatar_src,
        d=data,
        csp=CSP_SINGLE if single else CSP_FOLDER,
        inline_css=Markup(CSS) if single else None,  # our own stylesheet, verbatim
        media_src=media_src,
        files_note=not single,
    )
    return html.encode("utf-8")


def data_uri(mime: str, body: bytes) -> str:
    return f"data:{mime};base64," + base64.b64encode(body).decode("ascii")


def story_json(data: dict[str, Any]) -> bytes:
    """``story.json``: sorted keys, two-space indent, UTF-8, final newline (byte-stable)."""
    return (json.dumps(data, sort_keys=True, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def _md_post(p: dict[str, Any], indent: str = "") -> list[str]:
    if p.get("removed"):
        return [f"{indent}> _{p['notice']}_", ""]
    lines = []
    who = p["author"]["name"] + (f" (@{p['author']['handle']})" if p["author"].get("handle") else "")
    when = p["created_utc"] or ""
    if p.get("created_local"):
        when += f" · {p['created_local']['text']}"
    lines.append(f"{indent}> **{who}** on {p['platform_name']}, {when}")
    lines.append(f"{indent}>")
    # the text with X's t.co links written out as the addresses they stand for
    text = "".join(x["href"] if x["t"] == "url" and x.get("href") else x["s"] for x in p.get("rich") or [])
    for line in (text or p["text"] or "").splitlines() or [""]:
        lines.append(f"{indent}> {line}".rstrip())
    for m in p.get("media") or []:
        alt = m["alt"] or "no description"
        lines.append(f"{indent}>")
        lines.append(f"{indent}> [{m['type']}: {alt}]")
    for key, label in (("reply_to", "In reply to"), ("quote", "Quoting")):
        q = p.get(key)
        if q:
            lines.append(f"{indent}>")
            lines.append(f"{indent}> {label}:")
            lines.extend(f"{indent}> {x}".rstrip() for x in _md_post(q)[:-1])
    if p.get("url"):
        lines.append(f"{indent}>")
        lines.append(f"{indent}> <{p['url']}>")
    lines.append("")
    return lines


def render_markdown(data: dict[str, Any]) -> bytes:
    """``story.md``: the story as plain Markdown (posts as block quotes with their permalink)."""
    out = [f"# {data['title']}", ""]
    if data.get("description"):
        out += [data["description"].strip(), ""]
    out += [f"_Version {data['version']}, published {data['published_utc'][:10]}._", ""]
    for it in data["items"]:
        if it["kind"] == "heading":
            out += [f"## {it['body']}", ""]
        elif it["kind"] == "text":
            out += [it["body"].strip(), ""]
        else:
            out += _md_post(it["post"])
    c = data["colophon"]
    out += ["---", "", c["notice"], ""]
    for label, key in (("Institution", "institution"), ("Curator", "curator")):
        if c.get(key):
            out.append(f"- {label}: {c[key]}")
    if c.get("captured_from"):
        out.append(f"- Captured: {c['captured_from']} to {c['captured_to']}")
    out.append(f"- Salon {c['salon_version']}")
    for ch in data.get("changelog") or []:
        out.append(f"- {ch['date']}: {ch['entry']}")
    out.append("")
    return "\n".join(out).encode("utf-8")
