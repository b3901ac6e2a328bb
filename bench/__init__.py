"""Booper's benchmark suite: every scenario of issue 6 beside its baseline (run: python -m bench.run)."""
