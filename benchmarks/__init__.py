"""Benchmarks for the course's speed and accuracy bars (see run.py)."""
