"""scopegate's benchmark suite: run it with ``python benchmarks/run.py`` (see README.md)."""
