"""The model boundary: complete, stream, structured output over the OpenAI protocol.

This is the only module that imports `openai`. Everything else depends on `ChatModel`.
"""
from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Protocol, TypeVar

from pydantic import BaseModel, ValidationError

from agent.errors import ModelOutputError, ModelUnavailable

Message = dict[str, str]
T = TypeVar("T", bound=BaseModel)


@dataclass
class Usage:
    """Token counts and timings of one model call."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    first_token_s: float | None = None


@dataclass
class Completion:
    """A finished reply with its usage."""

    text: str
    usage: Usage = field(default_factory=Usage)


class ChatModel(Protocol):
    """What the rest of Pitchroom needs from a chat model."""

    name: str

    def complete(self, messages: list[Message], *, max_tokens: int, temperature: float = 0.0) -> Completion:
        """Return the whole reply."""

    def stream(self, messages: list[Message], *, max_tokens: int, temperature: float = 0.0,
               usage: Usage | None = None) -> Iterator[str]:
        """Yield the reply piece by piece; fill `usage` when given."""

    def structured(self, messages: list[Message], schema: type[T], *, max_tokens: int) -> T:
        """Return a reply constrained to, and validated against, a pydantic schema."""


SEED = 7  # a fixed seed: the same transcript and model give the same verdicts


class OpenAIChatModel:
    """A ChatModel over any OpenAI-compatible endpoint (OpenAI, vLLM, Ollama, llama.cpp)."""

    def __init__(self, base_url: str, api_key: str | None, model: str, *, timeout: float = 120.0,
                 json_mode: str = "json_schema") -> None:
        import openai  # imported here so tests that fake the model never need a client

        self.name = model
        self.base_url = base_url
        self._json_mode = json_mode  # llama-cpp-python wants json_object+schema; the rest json_schema
        self._errors = (openai.APIConnectionError, openai.APITimeoutError, openai.InternalServerError)
        self._client = openai.OpenAI(base_url=base_url, api_key=api_key or "not-needed",
                                     timeout=timeout, max_retries=0)

    def _call(self, messages: list[Message], **kwargs):
        try:
            return self._client.chat.completions.create(model=self.name, messages=messages, seed=SEED, **kwargs)
        except self._errors as exc:
            raise ModelUnavailable(
                f"The model at {self.base_url} did not answer ({type(exc).__name__}). Start it, or check "
                "OPENAI_BASE_URL / PITCHROOM_TIMEOUT; your message was kept and you can retry."
            ) from exc
        except Exception as exc:  # openai.APIStatusError and friends: say what the server said
            raise ModelUnavailable(f"The model at {self.base_url} refused the request: {_short(exc)}") from exc

    def complete(self, messages: list[Message], *, max_tokens: int, temperature: float = 0.0) -> Completion:
        """Return the whole reply."""
        resp = self._call(messages, max_tokens=max_tokens, temperature=temperature)
        text = _content(resp)
        u = resp.usage
        return Completion(text, Usage(u.prompt_tokens if u else 0, u.completion_tokens if u else 0))

    def stream(self, messages: list[Message], *, max_tokens: int, temperature: float = 0.0,
               usage: Usage | None = None) -> Iterator[str]:
        """Yield the reply piece by piece; fill `usage` when given."""
        import time

        start = time.perf_counter()
        chunks = self._call(messages, max_tokens=max_tokens, temperature=temperature, stream=True,
                            stream_options={"include_usage": True})
        answered = False  # a stream with no choices at all is not a reply, however politely it ends
        try:
            for chunk in chunks:
                if chunk.usage and usage is not None:
                    usage.prompt_tokens = chunk.usage.prompt_tokens
                    usage.completion_tokens = chunk.usage.completion_tokens
                answered = answered or bool(chunk.choices)
                piece = chunk.choices[0].delta.content if chunk.choices else None
                if piece:
                    if usage is not None and usage.first_token_s is None:
                        usage.first_token_s = time.perf_counter() - start
                    yield piece
        except self._errors as exc:
            raise ModelUnavailable(f"The model at {self.base_url} stopped mid-reply; retry.") from exc
        except Exception as exc:  # HTML, non-JSON events: not the OpenAI streaming protocol
            raise ModelOutputError(f"The model at {self.base_url} sent something that is not an OpenAI chat stream "
                                   f"({_short(exc)}). Check OPENAI_BASE_URL points at its /v1 API, then retry.") from exc
        if not answered:
            raise ModelOutputError(f"The model at {self.base_url} sent no reply (a stream without choices). Check "
                                   "OPENAI_BASE_URL and the model server's log, then retry.")

    def structured(self, messages: list[Message], schema: type[T], *, max_tokens: int) -> T:
        """Return a reply constrained to, and validated against, a pydantic schema."""
        js = schema.model_json_schema()
        if self._json_mode == "json_object":
            fmt = {"type": "json_object", "schema": js}
        else:
            fmt = {"type": "json_schema", "json_schema": {"name": schema.__name__, "schema": js}}
        resp = self._call(messages, max_tokens=max_tokens, temperature=0.0, response_format=fmt)
        return parse_structured(_content(resp), schema)


def parse_structured(text: str, schema: type[T]) -> T:
    """Validate model JSON against a schema, with an error that shows what came back."""
    try:
        return schema.model_validate(json.loads(text))
    except (json.JSONDecodeError, ValidationError) as exc:
        raise ModelOutputError(
            f"The model's answer is not valid {schema.__name__} JSON ({_short(exc)}); got: {text[:200]!r}. "
            "Try a stronger model (PITCHROOM_MODEL) or retry."
        ) from exc


def _content(resp) -> str:
    if not resp.choices or resp.choices[0].message.content is None:
        raise ModelOutputError("The model returned no text. Retry, or check the model server's log.")
    return resp.choices[0].message.content


def _short(exc: Exception) -> str:
    return str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
