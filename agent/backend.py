"""Which model backs Pitchroom: an OpenAI-compatible endpoint, or the embedded server (restarted if it died)."""
from __future__ import annotations

import logging

from agent.config import Settings
from agent.llm import ChatModel, OpenAIChatModel
from agent.local_model import LocalServer, shared_server

log = logging.getLogger(__name__)


def build_chat_model(settings: Settings) -> ChatModel:
    """The configured ChatModel: the OPENAI_BASE_URL endpoint if set, else the embedded server."""
    if settings.openai_base_url:
        return OpenAIChatModel(settings.openai_base_url, settings.openai_api_key, settings.model or "gpt-4o-mini",
                               timeout=settings.request_timeout, json_mode="json_schema")
    return LocalChatModel(settings)


class LocalChatModel:
    """The embedded server behind the ChatModel boundary; a server that died is restarted on the next call.

    A call that was under way when it died still fails with ModelUnavailable (the candidate's line is
    kept), so a retry works without restarting Pitchroom.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._server: LocalServer | None = None
        self._model = self._current()
        self.name = self._model.name

    def _current(self) -> OpenAIChatModel:
        server = shared_server(self.settings)
        if server is not self._server:
            if self._server is not None:
                log.warning("The embedded model server had stopped; started a new one (%s)", server.base_url)
            self._server = server
            # llama-cpp-python 0.3.36 accepts only {"type": "json_object", "schema": ...}; json_schema -> HTTP 500
            self._model = OpenAIChatModel(server.base_url, None, server.alias,
                                          timeout=self.settings.request_timeout, json_mode="json_object")
        return self._model

    def complete(self, messages, *, max_tokens, temperature=0.0):
        """See ChatModel.complete."""
        return self._current().complete(messages, max_tokens=max_tokens, temperature=temperature)

    def stream(self, messages, *, max_tokens, temperature=0.0, usage=None):
        """See ChatModel.stream."""
        return self._current().stream(messages, max_tokens=max_tokens, temperature=temperature, usage=usage)

    def structured(self, messages, schema, *, max_tokens):
        """See ChatModel.structured."""
        return self._current().structured(messages, schema, max_tokens=max_tokens)
