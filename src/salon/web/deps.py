"""What every route needs: the service, the templates, the language, the logged-in user, CSRF
checks and the permission check for writes."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

from fastapi import HTTPException, Request
from fastapi.templating import Jinja2Templates
from markupsafe import Markup, escape

from salon.web import auth
from salon.web.hardening import cookie_name
from salon.web.i18n import fmt_int, pick_lang, t
from salon.web.service import ArchiveService

__all__ = [
    "SESSION_COOKIE",
    "check_csrf",
    "csrf_form",
    "csrf_ok",
    "editor_of",
    "http_url",
    "lang_of",
    "render",
    "require_writer",
    "svc",
    "templates",
    "user_of",
]

SESSION_COOKIE = "salon_session"
CSRF_COOKIE = "salon_csrf"
LANG_COOKIE = "salon_lang"
HERE = Path(__file__).resolve().parent

templates = Jinja2Templates(directory=str(HERE / "templates"))


def _linkify(text: str | None) -> Markup:
    """Post text as HTML: escaped, line breaks kept, URLs and hashtags linked (no remote
    resource is ever loaded from a post)."""
    import re
    from urllib.parse import quote

    out = []
    pos = 0
    s = text or ""
    for m in re.finditer(r"https?://[^\s<>\"]+|(?<![\w&])#(\w+)", s):
        out.append(str(escape(s[pos : m.start()])))
        tok = m.group(0)
        if tok.startswith("#"):
            out.append(f'<a href="/explore?hashtag={quote(m.group(1))}">{escape(tok)}</a>')
        else:
            out.append(f'<a href="{escape(tok)}" rel="nofollow noopener ugc">{escape(tok)}</a>')
        pos = m.end()
    out.append(str(escape(s[pos:])))
    return Markup("".join(out).replace("\n", "<br>"))


def http_url(value: object) -> str:
    """``value`` if it is an http: or https: URL, else "" (the ``http_url`` filter every href
    or src built from archive data goes through: a platform URL such as ``javascript:...`` or
    ``data:...`` must never become a link)."""
    s = value.strip() if isinstance(value, str) else ""
    return s if s[:8].lower().startswith(("http://", "https://")) else ""


templates.env.filters["linkify"] = _linkify
templates.env.filters["http_url"] = http_url
templates.env.globals["fmt_int"] = fmt_int


def svc(request: Request) -> ArchiveService:
    s: ArchiveService = request.app.state.svc
    return s


def lang_of(request: Request) -> str:
    return pick_lang(
        request.cookies.get(LANG_COOKIE),
        request.query_params.get("lang"),
        request.headers.get("accept-language"),
    )


def user_of(request: Request) -> auth.User | None:
    """The logged-in user (cached on the request)."""
    if "user" not in request.state._state:
        value = session_value(request)
        request.state.user = auth.session_user(svc(request).reader(), value) if value else None
    u: auth.User | None = request.state.user
    return u


def csrf_token(request: Request) -> str:
    """The CSRF token forms of this page carry: the session's, else the double-submit cookie's
    (created when missing and set on the response by ``render``)."""
    u = user_of(request)
    if u is not None:
        return u.csrf_token
    tok = request.cookies.get(csrf_cookie(request)) or getattr(request.state, "new_csrf", None)
    if not tok:
        tok = secrets.token_urlsafe(24)
        request.state.new_csrf = tok
    return str(tok)


def csrf_ok(request: Request, submitted: str | None) -> bool:
    u = user_of(request)
    expected = u.csrf_token if u is not None else (request.cookies.get(csrf_cookie(request)) or "")
    return auth.same(submitted or "", expected)


def editor_of(request: Request) -> auth.User:
    """The logged-in editor; anyone else gets a 401 (every editing page needs a login)."""
    u = user_of(request)
    if u is None:
        raise HTTPException(401, "log in first")
    return u


def check_csrf(request: Request, submitted: str | None) -> None:
    """A 403 unless ``submitted`` (else the ``X-CSRF-Token`` header) is this session's token."""
    if not csrf_ok(request, submitted or request.headers.get("x-csrf-token")):
        raise HTTPException(403, "missing or wrong CSRF token: reload the page and try again")


async def csrf_form(request: Request) -> dict[str, str]:
    """The posted form's fields as text, once its CSRF token is checked."""
    form = await request.form()
    data = {k: str(v) for k, v in form.items()}
    check_csrf(request, data.get("csrf"))
    return data


def secure(request: Request) -> bool:
    return request.url.scheme == "https" or request.headers.get("x-forwarded-proto") == "https"


def session_cookie(request: Request) -> str:
    """The session cookie's name for this request (``__Host-`` over HTTPS)."""
    return cookie_name(SESSION_COOKIE, secure(request))


def csrf_cookie(request: Request) -> str:
    """The double-submit CSRF cookie's name for this request (``__Host-`` over HTTPS)."""
    return cookie_name(CSRF_COOKIE, secure(request))


def session_value(request: Request) -> str | None:
    """The session cookie's value, under the name this request's scheme uses."""
    return request.cookies.get(session_cookie(request))


def csp_nonce(request: Request) -> str:
    """This response's CSP nonce (``salon.web.hardening.SecurityHeaders``)."""
    return str(request.scope.get("state", {}).get("csp_nonce", ""))


def render(request: Request, name: str, status_code: int = 200, **ctx: Any) -> Any:
    """Render a template with the page context (language, user, CSRF token, ``t``)."""
    lang = lang_of(request)
    user = user_of(request)
    base = {
        "request": request,
        "lang": lang,
        "t": lambda key, **v: t(lang, key, **v),
        "n": lambda v: fmt_int(lang, v),
        "user": user,
        "csrf": csrf_token(request) if ctx.pop("with_csrf", user is not None) else "",
        "path": request.url.path,
        "csp_nonce": csp_nonce(request),
    }
    base.update(ctx)
    resp = templates.TemplateResponse(request, name, base, status_code=status_code)
    new = getattr(request.state, "new_csrf", None)
    if new:
        resp.set_cookie(
            csrf_cookie(request), new, httponly=True, samesite="strict", secure=secure(request), path="/"
        )
    return resp


def require_writer(request: Request, scope: str = "campaigns:write") -> str:
    """Who may write: a logged-in editor (with the CSRF header or form token checked by the
    caller for cookie-authenticated requests) or an API token with ``scope``. Raises 401/403."""
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        scopes = auth.token_scopes(svc(request).reader(), header[7:].strip())
        if scope in scopes:
            return "token"
        raise HTTPException(403, "this token does not have the scope " + scope)
    u = user_of(request)
    if u is None:
        raise HTTPException(401, "log in as an editor or send an API token (Authorization: Bearer ...)")
    if request.method not in ("GET", "HEAD", "OPTIONS") and not csrf_ok(
        request, request.headers.get("x-csrf-token")
    ):
        raise HTTPException(403, "missing or wrong CSRF token (X-CSRF-Token)")
    return f"user:{u.username}"
