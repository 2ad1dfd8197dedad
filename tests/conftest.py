"""Shared fixtures: settings in a temp folder, a scripted model, real Chroma and real SQLite."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from agent.config import Settings
from agent.session import Pitchroom
from agent.testing import ScriptedModel

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def shared_kb(tmp_path_factory):
    """One embedded Chroma for the whole run: embedding the packs once keeps tests fast."""
    from agent.knowledge import KnowledgeBase

    settings = Settings.from_env({"PITCHROOM_DATA_DIR": str(tmp_path_factory.mktemp("kb"))})
    return KnowledgeBase(settings)


@pytest.fixture
def settings(tmp_path) -> Settings:
    """Settings whose data live in a temp folder and that never reach a real endpoint."""
    return Settings.from_env({"PITCHROOM_DATA_DIR": str(tmp_path)})


@pytest.fixture
def make_app(settings, shared_kb):
    """Build a Pitchroom over a scripted model (the only fake), real Chroma and real SQLite."""
    def build(*replies, **kw) -> tuple[Pitchroom, ScriptedModel]:
        model = ScriptedModel(*replies, **kw)
        return Pitchroom(settings, model=model, knowledge=shared_kb), model
    return build


def pytest_configure(config):
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    config.addinivalue_line("markers", "slow: runs the real embedded model for minutes (part of `make test`)")
