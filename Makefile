# The two Quick start commands. Both install everything first (idempotent, registries only).
.PHONY: run test setup

setup:
	bash scripts/setup.sh

run: setup
	.venv/bin/pitchroom ui

test: setup
	.venv/bin/python -m pytest -q
