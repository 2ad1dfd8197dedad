"""A scripted fake of the model boundary, shared by tests: records what it was sent."""
from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from agent.llm import Completion, Message, Usage, parse_structured

Script = str | BaseModel | Exception | Callable[[list[Message]], Any]


@dataclass
class Call:
    """One recorded call to the fake."""

    method: str
    messages: list[Message]
    kwargs: dict[str, Any] = field(default_factory=dict)


class UnexpectedCall(AssertionError):
    """The code under test called the model more often than the script allows."""


class ScriptedModel:
    """Answers from a script in order; fails loudly when the script runs out."""

    def __init__(self, *replies: Script, name: str = "scripted") -> None:
        self.name = name
        self.replies = list(replies)
        self.calls: list[Call] = []

    def _next(self, method: str, messages: list[Message], **kwargs: Any) -> Any:
        self.calls.append(Call(method, [dict(m) for m in messages], kwargs))
        if not self.replies:
            raise UnexpectedCall(f"unexpected {method} call #{len(self.calls)}; last message: "
                                 f"{messages[-1]['content'][:200]!r}")
        reply = self.replies.pop(0)
        if isinstance(reply, Exception):
            raise reply
        return reply(messages) if callable(reply) else reply

    def complete(self, messages: list[Message], *, max_tokens: int, temperature: float = 0.0) -> Completion:
        """Return the next scripted reply."""
        text = self._next("complete", messages, max_tokens=max_tokens, temperature=temperature)
        return Completion(str(text), Usage(sum(len(m["content"]) // 4 for m in messages), len(str(text)) // 4))

    def stream(self, messages: list[Message], *, max_tokens: int, temperature: float = 0.0,
               usage: Usage | None = None) -> Iterator[str]:
        """Yield the next scripted reply word by word."""
        text = str(self._next("stream", messages, max_tokens=max_tokens, temperature=temperature))
        if usage is not None:
            usage.prompt_tokens = sum(len(m["content"]) // 4 for m in messages)
            usage.completion_tokens = len(text.split())
        for i, word in enumerate(text.split(" ")):
            yield word if i == 0 else " " + word

    def structured(self, messages: list[Message], schema: type, *, max_tokens: int):
        """Return the next scripted object, validated like a real reply."""
        reply = self._next("structured", messages, max_tokens=max_tokens, schema=schema.__name__)
        if isinstance(reply, BaseModel):
            return schema.model_validate(reply.model_dump())
        return parse_structured(reply if isinstance(reply, str) else json.dumps(reply), schema)

    @property
    def remaining(self) -> int:
        """Scripted replies not yet used."""
        return len(self.replies)
