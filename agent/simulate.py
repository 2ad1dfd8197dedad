"""An LLM plays a candidate from a short persona (`pitchroom eval --simulate`)."""
from __future__ import annotations

import re

from agent.errors import ModelOutputError
from agent.llm import ChatModel, Message
from agent.packs import Pack
from agent.prompts import PromptFile

_LABEL = re.compile(r"^\s*[\"*]*\s*(candidate|me|you|i|answer|response|line \d+)\s*[*]*\s*:\s*", re.I)
MAX_SENTENCES = 3


class SimulatedCandidate:
    """Writes the candidate's next line from the persona and the round so far."""

    def __init__(self, model: ChatModel, prompt: PromptFile, *, max_tokens: int = 120, max_chars: int = 4000) -> None:
        self.model, self.prompt, self.max_tokens, self.max_chars = model, prompt, max_tokens, max_chars

    def messages(self, persona: str, pack: Pack, role: str, round_name: str, history: list[dict],
                 line: int, lines: int) -> list[Message]:
        """The prompt: the persona first, the round so far seen from the candidate's side, the cue last."""
        who = pack.interviewer
        system = self.prompt.render("system", persona=persona, company=pack.name, role=role,
                                    interviewer=f"{who.name}, {who.title}", round=round_name)
        # Roles are mirrored: the candidate is the assistant here and the interviewer the user.
        convo = [{"role": "assistant" if t["role"] == "candidate" else "user", "content": t["text"]}
                 for t in history]
        cue = self.prompt.render("next_line", line=line, lines=lines)
        return [{"role": "system", "content": system}, *convo, {"role": "system", "content": cue}]

    def line(self, persona: str, pack: Pack, role: str, round_name: str, history: list[dict],
             line: int, lines: int) -> str:
        """The next candidate line, cleaned of labels and of anything written for the interviewer."""
        msgs = self.messages(persona, pack, role, round_name, history, line, lines)
        text = clean_line(self.model.complete(msgs, max_tokens=self.max_tokens).text, pack.interviewer.name)
        if not text:
            raise ModelOutputError("The simulated candidate produced an empty line; retry, or use a stronger "
                                   "model (PITCHROOM_MODEL) for --simulate.")
        return text[:self.max_chars]


def clean_line(text: str, interviewer: str) -> str:
    """Drop a speaker label, cut where the model starts the interviewer's line, keep three sentences."""
    first = interviewer.split()[0]
    other = re.compile(rf"\n\s*[*\"]*\s*(interviewer|hiring manager|{re.escape(interviewer)}|{re.escape(first)})"
                       r"\s*[*]*\s*:", re.I)
    text = other.split(text, maxsplit=1)[0]
    text = _LABEL.sub("", text.strip(), count=1)
    text = " ".join(text.split()).strip().strip('"').strip()
    sentences = re.split(r"(?<=[.!?])\s+", text)
    return " ".join(sentences[:MAX_SENTENCES]).strip()
