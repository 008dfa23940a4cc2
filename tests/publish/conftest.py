"""Archives the export and report tests share: the bundled demo sample (built once) and real
twarc2 corpora."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from salon.cli import app

DEMO_SLUG = "museumweek-2025-demo"


@pytest.fixture(scope="session")
def demo_archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled synthetic MuseumWeek sample imported with its campaign (`salon demo --sample`).
    Read it only (read_only=True): every test of the session shares it."""
    folder = tmp_path_factory.mktemp("demo")
    arc = folder / "demo.duckdb"
    res = CliRunner().invoke(app, ["demo", "--sample", "-a", str(arc), "--dir", str(folder / "d")])
    assert res.exit_code == 0, res.output
    return arc
