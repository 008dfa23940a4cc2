"""``python -m bench [name] [options]``: run one benchmark (``import``, ``tally``, ``web``), or all of them."""

from __future__ import annotations

import sys

BENCHMARKS = {
    "import": "bench.import_bench",
    "tally": "bench.tally_bench",
    "web": "bench.web_bench",
    "live": "bench.live_bench",
    "spark": "bench.spark_bench",
    "exports": "bench.exports_bench",
    "small_files": "bench.small_files_bench",
}


def main(argv: list[str]) -> None:
    import importlib

    if argv and argv[0] in ("-h", "--help"):
        print(__doc__)
        print("benchmarks:", ", ".join(BENCHMARKS))
        return
    if argv and not argv[0].startswith("-"):
        name, rest = argv[0], argv[1:]
        if name not in BENCHMARKS:
            raise SystemExit(f"unknown benchmark {name!r}; known: {', '.join(BENCHMARKS)}")
        importlib.import_module(BENCHMARKS[name]).main(rest)
        return
    for module in BENCHMARKS.values():
        importlib.import_module(module).main(argv)


if __name__ == "__main__":
    main(sys.argv[1:])
