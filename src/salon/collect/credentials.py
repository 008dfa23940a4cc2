"""Credentials for live collection: environment variables first, then a TOML file
(``$SALON_CREDENTIALS`` or ``~/.config/salon/credentials.toml``, mode 0600) keyed by the same
names the campaign file gives (``token_env``, ``handle_env``, ``password_env``)::

    SALON_MASTODON_TOKEN = "..."
    SALON_BSKY_HANDLE = "museum.bsky.social"
    SALON_BSKY_APP_PASSWORD = "xxxx-xxxx-xxxx-xxxx"
    SALON_X_BEARER_TOKEN = "..."

A value is a ``Secret``: its ``repr``/``str`` print ``***`` so it cannot reach a log, an error
message or the archive by accident; ``reveal()`` gives it to the HTTP layer. ``redact`` scrubs
every known secret from a text before it is shown or stored.
"""

from __future__ import annotations

import os
import re
import stat
import tomllib
from pathlib import Path

__all__ = ["Credentials", "Secret", "credentials_path", "save_credentials"]

# Environment names whose values are redacted even before ``get`` is asked for them.
_SECRET_NAME = re.compile(r"TOKEN|PASSWORD|SECRET|API_?KEY", re.IGNORECASE)


class Secret:
    """A credential value that never prints itself."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    def __str__(self) -> str:
        return "***"

    def __bool__(self) -> bool:
        return bool(self._value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


def credentials_path() -> Path:
    env = os.environ.get("SALON_CREDENTIALS")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "salon" / "credentials.toml"


class Credentials:
    """Looks names up in the environment, then in the credentials file."""

    def __init__(self, path: Path | None = None, env: dict[str, str] | None = None) -> None:
        self.path = path or credentials_path()
        self.env = os.environ if env is None else env
        self.warnings: list[str] = []
        self._file: dict[str, str] = {}
        self._asked: set[str] = set()  # names ``get`` was asked for: their env values are secrets too
        if self.path.exists():
            mode = stat.S_IMODE(self.path.stat().st_mode)
            if mode & 0o077:
                self.warnings.append(
                    f"{self.path} is readable by others (mode {mode:o}); run: chmod 600 {self.path}"
                )
            try:
                data = tomllib.loads(self.path.read_text(encoding="utf-8"))
            except (OSError, tomllib.TOMLDecodeError) as exc:
                # the parser's message may quote the file's text: never show it
                self.warnings.append(f"{self.path}: unreadable credentials file ({type(exc).__name__})")
                data = {}
            self._file = {k: v for k, v in data.items() if isinstance(v, str)}

    def get(self, name: str | None) -> Secret | None:
        if not name:
            return None
        self._asked.add(name)
        value = self.env.get(name) or self._file.get(name)
        return Secret(value) if value else None

    def known(self) -> list[Secret]:
        """Every value ``get`` has returned or can return: the file's values, and the environment's
        values of the names asked for, of the names the file holds and of secret-looking names."""
        names = self._asked | set(self._file) | {n for n in self.env if _SECRET_NAME.search(n)}
        values = {*self._file.values(), *(self.env.get(n) or "" for n in names)}
        return [Secret(v) for v in values if v]

    def redact(self, text: str, extra: list[Secret] | None = None) -> str:
        """``text`` with every secret this object can see replaced by ``***``."""
        values = {s.reveal() for s in [*self.known(), *(extra or [])]}
        for v in sorted(values, key=len, reverse=True):  # longest first: a secret may contain another
            if len(v) >= 4:
                text = text.replace(v, "***")
        return text


def save_credentials(values: dict[str, str], path: Path | None = None) -> Path:
    """Merge ``values`` into the credentials file, created with mode 0600 (folder 0700)."""
    path = path or credentials_path()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    current: dict[str, str] = {}
    if path.exists():
        try:
            current = {
                k: v for k, v in tomllib.loads(path.read_text(encoding="utf-8")).items() if isinstance(v, str)
            }
        except tomllib.TOMLDecodeError:
            current = {}
    current.update(values)
    lines = ["# Salon credentials (salon auth). Keep this file private: mode 0600.\n"]
    for k in sorted(current):
        v = current[k].replace("\\", "\\\\").replace('"', '\\"')
        lines.append(f'{k} = "{v}"\n')
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.writelines(lines)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)
    return path
