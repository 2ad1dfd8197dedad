"""The evaluation front door: `pitchroom eval` (evals/runner.py) over the scripted candidates in evals/candidates/."""
