"""Benchmarks: `python -m bench` runs every bench/<area>.py; `python -m bench files appstore` runs some."""
