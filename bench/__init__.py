"""Benchmarks: scripts that print rates and ratios against a floor measured in the same run.

Run one with ``python -m bench.<name>``; ``python -m bench`` lists them. They are never tests.
"""
