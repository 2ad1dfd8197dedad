"""Pitchroom core: a retrieval-backed hiring manager and a sales-call critic."""

__version__ = "0.1.0"
