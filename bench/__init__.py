"""Benchmarks: `pitchroom bench [NAME] [--quick]` writes bench/results/<name>.json and one line each."""
