"""Benchmarks (``make bench``). Each ``bench/bench_*.py`` module exposes ``run(ctx) -> list[Result]``."""
