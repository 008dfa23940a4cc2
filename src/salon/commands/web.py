"""``salon serve``, ``salon users``, ``salon tokens``, and ``salon import`` into a served archive.

``register(app)`` adds the commands to the ``salon`` Typer app and wraps ``salon import`` so
that, while ``salon serve`` holds the archive (``<archive>.serve.json`` beside it), the records
are streamed to the server instead of failing on DuckDB's file lock.
"""

from __future__ import annotations

import functools
import getpass
import json
import os
from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from salon.commands.common import ArchiveOpt, console, err, note
from salon.commands.common import fail as _fail

__all__ = ["register"]


users_app = typer.Typer(help="Editors' accounts (admin or editor) of the web app.", no_args_is_help=True)
tokens_app = typer.Typer(help="Scoped API tokens for scripts and collectors.", no_args_is_help=True)


def _path(archive: str | None) -> str:
    from salon.store.archive import default_archive_path

    return archive or default_archive_path()


def serve(
    archive: ArchiveOpt = None,
    host: Annotated[
        str, typer.Option(help="Interface to listen on (0.0.0.0: every interface).")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port (0: any free port).")] = 8000,
    replay: Annotated[
        list[str] | None,
        typer.Option(
            "--replay", help="Files or folders to replay into the archive live, in order (repeatable)."
        ),
    ] = None,
    replay_rate: Annotated[float, typer.Option(help="Records per second while replaying.")] = 200.0,
) -> None:
    """Start the web app: live campaign pages, the archive explorer, the JSON API and the
    editors' pages. While it runs, `salon import` on the same archive streams to it."""
    from salon.store.archive import ArchiveError
    from salon.web.app import serve as run

    path = _path(archive)

    def ready(url: str) -> None:
        err.print(
            Text.assemble("Salon serving ", (path, "bold"), " at ", (f"{url}/", "bold"), "  (Ctrl+C to stop)")
        )

    try:
        run(path, host=host, port=port, replay=replay or None, replay_rate=replay_rate, on_ready=ready)
    except ArchiveError as exc:
        _fail(str(exc))
    except OSError as exc:
        _fail(f"cannot listen on {host}:{port}: {exc.strerror or exc}")


def _account_op(archive: str | None, op: dict[str, Any]) -> Any:
    """Run an account operation on the archive, or through the server holding it."""
    from salon.store.archive import ArchiveError, open_archive
    from salon.web import accounts, auth
    from salon.web.remote import RemoteError, remote_admin
    from salon.web.serverfile import read_server_file

    path = _path(archive)
    server = read_server_file(path)
    try:
        if server is not None:
            return remote_admin(server, op)
        with open_archive(path) as arc:
            return accounts.run(arc, op)
    except (auth.AuthError, RemoteError, ArchiveError) as exc:
        _fail(str(exc))


def _password() -> str:
    pw = os.environ.get("SALON_PASSWORD")
    if pw:
        return pw
    pw = getpass.getpass("Password (10+ characters): ")
    if pw != getpass.getpass("Again: "):
        _fail("the passwords differ")
    return pw


@users_app.command("add")
def users_add(
    username: Annotated[str, typer.Argument(help="Login name.")],
    role: Annotated[str, typer.Option(help="admin or editor.")] = "editor",
    archive: ArchiveOpt = None,
) -> None:
    """Create a user; the password is asked (or read from $SALON_PASSWORD)."""
    uid = _account_op(
        archive, {"op": "users.add", "username": username, "password": _password(), "role": role}
    )
    console.print(Text.assemble("user ", (username, "bold"), f" ({role}) created, id {uid}"))


@users_app.command("passwd")
def users_passwd(
    username: Annotated[str, typer.Argument(help="Login name.")], archive: ArchiveOpt = None
) -> None:
    """Set a user's password (asked, or $SALON_PASSWORD)."""
    _account_op(archive, {"op": "users.passwd", "username": username, "password": _password()})
    console.print(Text.assemble("password of ", (username, "bold"), " changed"))


@users_app.command("list")
def users_list(archive: ArchiveOpt = None, as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """List users."""
    rows = _account_op(archive, {"op": "users.list"})
    if as_json:
        print(json.dumps(rows, default=str, indent=2))
        return
    t = Table()
    for c in ("user_id", "username", "role", "created_at", "disabled"):
        t.add_column(c)
    for r in rows:
        t.add_row(*[Text(str(r[c])) for c in ("user_id", "username", "role", "created_at", "disabled")])
    console.print(t)


@tokens_app.command("add")
def tokens_add(
    name: Annotated[str, typer.Argument(help="What the token is for.")],
    scope: Annotated[
        list[str], typer.Option("--scope", "-s", help="campaigns:write or ingest (repeatable).")
    ],
    archive: ArchiveOpt = None,
) -> None:
    """Create an API token and print it (only this once)."""
    token = _account_op(archive, {"op": "tokens.add", "name": name, "scopes": scope})
    print(token)


@tokens_app.command("list")
def tokens_list(archive: ArchiveOpt = None, as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """List API tokens (never their values)."""
    rows = _account_op(archive, {"op": "tokens.list"})
    if as_json:
        print(json.dumps(rows, default=str, indent=2))
        return
    t = Table()
    cols = ("token_id", "name", "scopes", "created_at", "revoked_at")
    for c in cols:
        t.add_column(c)
    for r in rows:
        t.add_row(*[Text("" if r[c] is None else str(r[c])) for c in cols])
    console.print(t)


@tokens_app.command("revoke")
def tokens_revoke(
    token_id: Annotated[int, typer.Argument(help="Id from `salon tokens list`.")], archive: ArchiveOpt = None
) -> None:
    """Revoke an API token."""
    if not _account_op(archive, {"op": "tokens.revoke", "token_id": token_id}):
        _fail(f"no live token {token_id}")
    console.print(f"token {token_id} revoked")


def _wrap_import(app: typer.Typer) -> None:
    """Make ``salon import`` stream to a running server that holds the archive."""
    for info in app.registered_commands:
        if info.name == "import" and info.callback is not None:
            info.callback = _served_import(info.callback)
            return


def _served_import(original: Any) -> Any:
    @functools.wraps(original)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from salon.web.serverfile import read_server_file

        server = read_server_file(_path(kwargs.get("archive")))
        if server is None:
            return original(*args, **kwargs)
        return _remote_import(server, **kwargs)

    return wrapper


def _remote_import(server: dict[str, Any], **kw: Any) -> None:
    from salon.importer import summary
    from salon.sources.files import InputError
    from salon.web.remote import RemoteError, remote_import

    quiet, as_json = kw.get("quiet", False), kw.get("as_json", False)
    if kw.get("max_record_mb") is not None:
        os.environ["SALON_MAX_RECORD_MB"] = str(kw["max_record_mb"])  # read by salon.sources.streams
    if not quiet and not as_json:
        err.print(
            f"the archive is served by `salon serve` (pid {server['pid']}): streaming to {server['url']}",
            markup=False,
            emoji=False,
        )
    try:
        report = remote_import(
            kw["paths"], server, fmt=kw.get("fmt"), batch_size=kw.get("batch_size", 20_000)
        )
    except (InputError, RemoteError, OSError) as exc:
        _fail(str(exc))
    for problem in report.problems[:50]:
        note(problem, "warning")
    if as_json:
        print(json.dumps(summary(report), default=str, indent=2))
    elif not quiet:
        console.print(
            f"[bold]{report.posts_new:,}[/] new posts from {report.records_in:,} records in {len(report.files)} file(s): "
            f"{report.records_new:,} new, {report.records_duplicate:,} already in the archive, "
            f"{report.records_bad:,} quarantined."
        )
    if not report.ok:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add ``serve``, ``users`` and ``tokens`` to the ``salon`` app; route ``import`` to a server."""
    app.command("serve")(serve)
    app.add_typer(users_app, name="users")
    app.add_typer(tokens_app, name="tokens")
    _wrap_import(app)
