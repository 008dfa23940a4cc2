"""The public API against its own OpenAPI document with schemathesis: generated requests (a
bounded number per operation) never get a 5xx, and every answer matches the schema's status
codes. The live stream (server-sent events, endless) is left to tests/web/test_api.py."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

schemathesis = pytest.importorskip("schemathesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402

from salon.web.app import create_app  # noqa: E402
from salon.web.service import ArchiveService  # noqa: E402
from tests.trust.data import Builder  # noqa: E402

MAX_EXAMPLES = 12


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ArchiveService]:
    b = Builder(tmp_path_factory.mktemp("st"))
    b.post("=cmd a formula-looking post", user="visitor")
    b.post("Bienvenue au musée", user="louvre")
    svc = ArchiveService(str(b.build()))
    svc.start()
    yield svc
    svc.close()


def _schema(svc: ArchiveService):  # type: ignore[no-untyped-def]
    app = create_app(service=svc)
    return schemathesis.openapi.from_asgi("/api/openapi.json", app)


def test_no_5xx_on_generated_requests(service: ArchiveService) -> None:
    schema = _schema(service)
    ops = [r.ok() for r in schema.get_all_operations()]
    checked = 0
    for op in ops:
        if op.path.endswith("/stream"):
            continue

        @settings(
            max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None
        )
        @given(case=op.as_strategy())
        def run(case) -> None:  # type: ignore[no-untyped-def]
            resp = case.call()
            assert resp.status_code < 500, (
                case.method,
                case.formatted_path,
                resp.status_code,
                resp.text[:300],
            )

        run()
        checked += 1
    assert checked >= 8
