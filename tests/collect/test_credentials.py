"""Credentials: secrets from the environment are redacted as well as those from the file."""

from __future__ import annotations

from pathlib import Path

from salon.collect.credentials import Credentials, Secret


def test_env_token_is_redacted(tmp_path: Path) -> None:
    path = tmp_path / "none.toml"
    token = "env-only-token-9876"
    creds = Credentials(path=path, env={"MY_CAMPAIGN_BEARER": token})
    assert creds.get("MY_CAMPAIGN_BEARER") == Secret(token)
    out = creds.redact(f"oops {token}")
    assert token not in out and out == "oops ***"


def test_env_secret_redacted_before_get_and_env_wins_over_file(tmp_path: Path) -> None:
    path = tmp_path / "credentials.toml"
    path.write_text('SALON_X_BEARER_TOKEN = "file-token-1234"\n', encoding="utf-8")
    path.chmod(0o600)
    creds = Credentials(
        path=path, env={"SALON_X_BEARER_TOKEN": "env-token-5678", "SALON_MASTODON_TOKEN": "m-tok-0000"}
    )
    text = "a file-token-1234 b env-token-5678 c m-tok-0000"
    assert creds.redact(text) == "a *** b *** c ***"  # before any get()
    assert creds.get("SALON_X_BEARER_TOKEN") == Secret("env-token-5678")
    assert creds.redact(text) == "a *** b *** c ***"
    assert "token" not in repr(creds.known())


def test_longer_secret_is_redacted_whole(tmp_path: Path) -> None:
    creds = Credentials(path=tmp_path / "none.toml", env={"A_TOKEN": "abcd", "B_TOKEN": "abcdefgh"})
    assert creds.redact("x abcdefgh y") == "x *** y"
