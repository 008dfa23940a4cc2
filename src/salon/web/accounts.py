"""Account operations by name, so ``salon users``/``salon tokens`` run the same code on an archive
they open themselves or, while ``salon serve`` holds it, through the server's local endpoint."""

from __future__ import annotations

from typing import Any

from salon.store.archive import Archive
from salon.web import auth

__all__ = ["run"]


def run(arc: Archive, op: dict[str, Any]) -> Any:
    """Run ``op`` ({"op": "users.add", ...}) on ``arc``; raises ``auth.AuthError``."""
    name = op.get("op")
    if name == "users.add":
        return auth.add_user(arc, str(op["username"]), str(op["password"]), str(op.get("role", "editor")))
    if name == "users.passwd":
        auth.set_password(arc, str(op["username"]), str(op["password"]))
        return True
    if name == "users.list":
        return auth.list_users(arc)
    if name == "tokens.add":
        return auth.add_token(arc, str(op["name"]), list(op["scopes"]))
    if name == "tokens.list":
        return auth.list_tokens(arc)
    if name == "tokens.revoke":
        return auth.revoke_token(arc, int(op["token_id"]))
    raise auth.AuthError(f"unknown operation {name!r}")
