"""``make bench``: run every benchmark module (or those named on the command line), print and save the table."""

from __future__ import annotations

import importlib
import logging
import os
import sys
from pathlib import Path

from .harness import BenchContext, Result, start_postgres, table, write_results


def main(argv: list[str]) -> int:
    logging.basicConfig(level=logging.WARNING)
    # The benchmarks' simulated Chatwoot listens on 127.0.0.1 over http, as in make run.
    os.environ.setdefault("CHATWOOT_ALLOW_HTTP", "true")
    os.environ.setdefault("CHATWOOT_ALLOWED_NETWORKS", "127.0.0.0/8,::1")
    names = argv or sorted(p.stem for p in Path(__file__).parent.glob("bench_*.py"))
    postgres = start_postgres()
    results: list[Result] = []
    try:
        ctx = BenchContext(postgres=postgres)
        for name in names:
            module = importlib.import_module(f"bench.{name}")
            print(f"running {name} ...", flush=True)
            results.extend(module.run(ctx))
    finally:
        postgres.stop()
    write_results(results)
    print(table(results))
    return 0 if all(r.ok is not False for r in results) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
