"""Were the interviewer's company facts grounded in the pack? Checked after a run and in the stream."""
from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from agent.packs import Pack

_NUMBER = re.compile(r"(?<![\w.,])\$?(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d+))?")
_CAPS = re.compile(r"[A-Z][\w'’&-]*(?:[ \t]+[A-Z][\w'’&-]*)*")
_TIE = re.compile(r"\b(?:we|we're|we've|we'll|our|ours|us|here at|the company|the team|this role|the role|"
                  r"this job|the job|this position|the position|the office)\b", re.I)
_INITIAL = set(".!?:;\"“‘'(—–-\n")
_NUMBER_WORDS = {w: str(i) for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
    "seventeen eighteen nineteen twenty".split())}
_NUMBER_WORDS.update({"thirty": "30", "forty": "40", "fifty": "50", "sixty": "60", "seventy": "70",
                      "eighty": "80", "ninety": "90", "hundred": "100", "first": "1", "second": "2", "third": "3",
                      "fourth": "4", "half": "50", "twice": "2", "double": "2"})
# Capitalised for grammar, not because they name something (sentence starts, pronouns, greetings, days).
_COMMON = set("""a about after all also an and any anything appreciate are as at be before but can could did do does
fair finally first for frankly from glad good got great have hello here here's hi honestly how how's i i'd i'll i'm
i've if impressive in interesting is it it's just let let's look may maybe me my nice no noted now of ok okay on one
or our please quite really right since so sounds sure tell thank thanks that that's the then there there's these
they this those understood walk we we're we'll well what what's when where which who why will with would yes you
you're you've your monday tuesday wednesday thursday friday saturday sunday mr mrs ms dr""".split())


@dataclass
class Grounding:
    """One factual claim of the interviewer about the company and whether the pack supports it."""

    round: int
    turn: int
    sentence: str
    supported: bool
    missing: list[str] = field(default_factory=list)


class PackIndex:
    """What a pack states, prepared for claim checks: its numbers and its lower-cased text."""

    def __init__(self, pack: Pack) -> None:
        who = pack.interviewer
        text = "\n".join([pack.name, pack.role, who.name, who.title, str(who.age), who.background, pack.full_text()])
        self.company = pack.name
        self.text = text.lower()
        self.numbers = numbers_in(text) | {n for w, n in _NUMBER_WORDS.items() if re.search(rf"\b{w}\b", self.text)}
        self.caps = {w.lower() for w in re.findall(r"\b[A-Z][\w'’&-]*", text)}
        self.lower_words = set(re.findall(r"\b[a-z][\w'’-]*", text))


def numbers_in(text: str) -> set[str]:
    """Numbers as plain digits: `$1,200.50` -> `1200.5`, `41%` -> `41`, `2.0` -> `2`."""
    found = set()
    for whole, frac in _NUMBER.findall(text):
        frac = (frac or "").rstrip("0")
        found.add(whole.replace(",", "") + (f".{frac}" if frac else ""))
    return found


def entities_in(sentence: str, facts: PackIndex) -> list[str]:
    """Runs of capitalised words that name something (grammar-only capitals are dropped)."""
    found = []
    for m in _CAPS.finditer(sentence):
        words = [re.sub(r"['’]s?$", "", w) for w in m.group(0).split()]  # Robotics' and Robotics's alike
        before = sentence[:m.start()].rstrip()
        if not before or before[-1] in _INITIAL:
            first = words[0].lower()
            # A lone word at a sentence start is capitalised by grammar unless the pack knows it as a name.
            lone_unknown = len(words) == 1 and first not in facts.caps
            if lone_unknown or first in _COMMON or first in facts.lower_words or first in sentence.lower().split():
                words = words[1:]
        words = [w for w in words if w.lower() not in _COMMON]
        if words:
            found.append(" ".join(words))
    return found


def _entity_supported(entity: str, facts: PackIndex) -> bool:
    low = entity.lower()
    return low in facts.text or all(w.lower() in facts.caps for w in entity.split())


def grounding_claims(text: str, facts: PackIndex, echo: str, where: tuple[int, int] = (0, 0)) -> list[Grounding]:
    """The company claims in one interviewer reply; `echo` is what the candidate said (repeating it is no claim)."""
    echo_low, echo_numbers = echo.lower(), numbers_in(echo)
    claims = []
    for sentence in re.split(r"(?<=[.!?])\s+", text.strip()):
        numbers = sorted(numbers_in(sentence) - echo_numbers)
        entities = [e for e in entities_in(sentence, facts) if e.lower() not in echo_low]
        tied = bool(_TIE.search(sentence)) or facts.company.lower() in sentence.lower()
        if not entities and not (numbers and tied):
            continue
        missing = [n for n in numbers if n not in facts.numbers]
        missing += [e for e in entities if not _entity_supported(e, facts)]
        claims.append(Grounding(where[0], where[1], sentence, not missing, missing))
    return claims


def session_grounding(rounds: Sequence[Sequence[dict]], facts: PackIndex) -> list[Grounding]:
    """Claims of every interviewer turn in a session, checked against the pack."""
    echo = " \n".join(t["text"] for turns in rounds for t in turns if t["role"] == "candidate")
    return [claim for r, turns in enumerate(rounds) for t, turn in enumerate(turns) if turn["role"] == "interviewer"
            for claim in grounding_claims(turn["text"], facts, echo, (r, t))]


def invented_numbers(text: str, facts: PackIndex, echo: str) -> list[str]:
    """Figures the reply states about the company that neither the pack nor the conversation gave."""
    return [n for claim in grounding_claims(text, facts, echo) for n in claim.missing if n in numbers_in(claim.sentence)]
