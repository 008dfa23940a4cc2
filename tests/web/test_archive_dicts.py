"""``Archive.dicts``: rows as dicts keyed by column name, the helper the web routes, the
explorer and the account functions read rows with."""

from __future__ import annotations

from pathlib import Path

from salon.store.archive import open_archive
from salon.web import auth


def test_dicts(tmp_path: Path) -> None:
    with open_archive(tmp_path / "a.duckdb") as arc:
        rows = arc.dicts("SELECT * FROM (VALUES (1, 'a'), (2, 'b')) t(n, s) WHERE n >= ? ORDER BY n", [1])
        assert rows == [{"n": 1, "s": "a"}, {"n": 2, "s": "b"}]
        assert [list(r) for r in rows] == [["n", "s"], ["n", "s"]]  # select-list order
        assert arc.dicts("SELECT 1 AS x WHERE ? ", [False]) == []
        assert arc.dicts("SELECT 2 AS y, 'z' AS x") == [{"y": 2, "x": "z"}]


def test_account_lists_are_dicts(tmp_path: Path) -> None:
    with open_archive(tmp_path / "a.duckdb") as arc:
        assert auth.list_users(arc) == [] and auth.list_tokens(arc) == []
        auth.add_user(arc, "ed", "correct horse battery", "editor")
        auth.add_token(arc, "ci", ["campaigns:write"])
        (u,) = auth.list_users(arc)
        assert list(u) == ["user_id", "username", "role", "created_at", "disabled"]
        assert (u["username"], u["role"], u["disabled"]) == ("ed", "editor", False)
        (t,) = auth.list_tokens(arc)
        assert list(t) == ["token_id", "name", "scopes", "created_at", "last_used_at", "revoked_at"]
        assert (t["name"], t["scopes"], t["revoked_at"]) == ("ci", "campaigns:write", None)
