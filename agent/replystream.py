"""The interviewer's streamed reply, released only once it is checked: in character, figures grounded,
and no question of the model's own when the manager's planned question follows."""
from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

from agent import guard

_TRAILING_NUMBER = re.compile(r"\$?\d[\d,.]*$")
_SENTENCE_END = re.compile(r"[.!?](?=\s)")
OWN_QUESTION = "own question"


class GuardedStream:
    """Yields model text only once checked, cutting it where it would leave the character or invent a figure.

    With a planned question to follow, the reaction is released a whole sentence at a time and stops
    before the model's own first question: the manager asks one question per turn, the planned one.
    """

    HOLD = 48  # longer than any guarded phrase, so nothing unsafe is shown before it is checked

    def __init__(self, pieces: Iterator[str], speaker: str, question: str | None, result: Any,
                 invented: Callable[[str], list[str]] = lambda text: [], cap: int | None = None) -> None:
        self.pieces, self.speaker, self.question, self.result = pieces, speaker, question, result
        self.invented, self.cap = invented, cap

    def __iter__(self) -> Iterator[str]:
        raw, shown, why, count = "", "", None, 0
        for piece in self.pieces:
            raw, count = raw + piece, count + 1
            text, why = self._clean(raw, final=False)
            if why:
                break
            ready = self._ready(text)
            if len(ready) > len(shown):
                yield ready[len(shown):]
                shown = ready
        text, why = self._clean(raw, final=True, truncated=self.cap is not None and count >= self.cap)
        if why and not text.startswith(shown):
            text = shown  # part of the cut sentence was already shown: keep exactly that
        self._note(why)
        if not text and not self.question:
            text = "Thanks for your time today; we'll be in touch about next steps."
            self.result.meta["guard"] = "empty reply replaced by a plain close"
        yield text[len(shown):]
        self.result.text = text

    def _ready(self, text: str) -> str:
        """What may be shown now: whole sentences before a planned question, else all but a hold-back."""
        if self.question:
            ends = [m.end() for m in _SENTENCE_END.finditer(text)]
            return text[:ends[-1]] if ends else ""
        return text[:max(0, len(text) - self.HOLD)]

    def _clean(self, raw: str, final: bool, truncated: bool = False) -> tuple[str, str | None]:
        """The reply so far, cut where needed, and why it was cut (None: nothing cut)."""
        text = guard.tidy_reply(raw, self.speaker)
        if guard.out_of_character(text):
            return guard.cut_sentences(text, guard.out_of_character), "cut text that left the character"
        # Mid-stream a trailing number may be unfinished ("$8" of "$86"): judge it once it is complete.
        if self.invented(text if final else _TRAILING_NUMBER.sub("", text)):
            return guard.cut_sentences(text, self.invented), "cut a figure the research does not state"
        if self.question and "?" in text:
            return guard.cut_sentences(text, lambda sentence: "?" in sentence), OWN_QUESTION
        if self.question and truncated:  # the token cap ended it mid-sentence: keep the finished sentences
            return self._ready(text + " "), None
        return text, "cut a line written for the other side" if guard.has_role_line(raw) else None

    def _note(self, why: str | None) -> None:
        if why == OWN_QUESTION:
            self.result.meta["own_question_dropped"] = True  # normal trimming, not a guard event
        elif why:
            self.result.meta["guard"] = why
