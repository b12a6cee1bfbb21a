"""Jalon's benchmarks (``make bench``): ratios against baselines measured in the same run.

Not part of ``make test``; no test is ever timed. Results go to ``docs/benchmarks.md`` and
``docs/benchmarks.json``.
"""
