"""Benchmarks: ``make bench`` (see bench/run.py). Not tests: pytest only collects tests/."""
