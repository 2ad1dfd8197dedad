"""Settings built from the environment in one place; nothing reads it at import time."""
from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from pydantic import BaseModel, Field

from agent.errors import ConfigError

ROOT = Path(__file__).resolve().parent.parent
DIFFICULTIES = ("friendly", "realistic", "tough")
ROUNDS = ("screen", "second", "final")


class Settings(BaseModel):
    """Everything configurable, read once from the environment."""

    data_dir: Path = Field(description="Where the database, Chroma and the assembled model live.")
    database_url: str = Field(description="SQLAlchemy URL of the session store.")
    openai_base_url: str | None = Field(None, description="An OpenAI-compatible endpoint; unset means the embedded model.")
    openai_api_key: str | None = Field(None, description="Key for that endpoint.")
    model: str | None = Field(None, description="Model name at that endpoint.")
    local_model: Path | None = Field(None, description="A GGUF file for the embedded server.")
    local_threads: int = Field(2, description="CPU threads for the embedded model.")
    local_ctx: int = Field(4096, description="Context window of the embedded model.")
    chroma_host: str | None = Field(None, description="Chroma server host; unset means embedded Chroma.")
    chroma_port: int = Field(8000, description="Chroma server port.")
    api_key: str | None = Field(None, description="Bearer key the HTTP API requires.")
    # ~930 prompt tokens + a reply: the persona, the facts and about five exchanges. Larger budgets make long
    # interviews slower on a CPU (every trim re-reads more), without the 1.5B model using the extra history.
    context_budget: int = Field(1050, description="Prompt token budget per interviewer turn.")
    reply_tokens: int = Field(120, description="Max tokens of one interviewer reply.")
    request_timeout: float = Field(120.0, description="Seconds before a model call is abandoned.")
    max_message_chars: int = Field(4000, description="Longest candidate message accepted.")
    knowledge_dir: Path = Field(ROOT / "knowledge", description="Built-in packs, rubric and notes.")
    prompts_dir: Path = Field(ROOT / "prompts", description="Prompt templates.")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> "Settings":
        """Build settings from environment variables (PITCHROOM_*, OPENAI_*, CHROMA_*)."""
        env = os.environ if env is None else env
        data_dir = Path(env.get("PITCHROOM_DATA_DIR") or ROOT / ".pitchroom").expanduser()
        try:
            return cls(
                data_dir=data_dir,
                database_url=env.get("PITCHROOM_DATABASE_URL") or f"sqlite:///{data_dir / 'pitchroom.db'}",
                openai_base_url=env.get("OPENAI_BASE_URL") or None,
                openai_api_key=env.get("OPENAI_API_KEY") or None,
                model=env.get("PITCHROOM_MODEL") or None,
                local_model=Path(env["PITCHROOM_LOCAL_MODEL"]) if env.get("PITCHROOM_LOCAL_MODEL") else None,
                # One core left free: llama.cpp's spinning threads collapse when the app needs the CPU too.
                local_threads=int(env.get("PITCHROOM_THREADS") or max(1, (os.cpu_count() or 2) - 1)),
                chroma_host=env.get("CHROMA_HOST") or None,
                chroma_port=int(env.get("CHROMA_PORT") or 8000),
                api_key=env.get("PITCHROOM_API_KEY") or None,
                context_budget=int(env.get("PITCHROOM_CONTEXT_BUDGET") or 1050),
                request_timeout=float(env.get("PITCHROOM_TIMEOUT") or 120),
            )
        except ValueError as exc:
            raise ConfigError(f"Invalid setting in the environment: {exc}. Fix the variable named above.") from exc

    @property
    def uses_local_model(self) -> bool:
        """True when no OpenAI-compatible endpoint is configured."""
        return not self.openai_base_url
