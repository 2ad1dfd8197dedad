"""Checks what the candidate said about the company against the pack, slot by slot.

A claim is a candidate sentence that talks about the company and carries a checkable
detail (a number, a year, a name, a funding series). A detail the pack also states is
`supported`; a detail of the same kind as the pack's value for the same slot (founding,
headquarters, funding, revenue...) but absent from the pack is `contradicted`; any other
company detail the pack never mentions is `unsupported`.
"""
from __future__ import annotations

import functools
import os
import re
from dataclasses import dataclass

from agent.packs import Pack
from agent.schemas import Claim, Quote

SLOTS = {
    "founded": ("founded", "established", "since it was", "started in"),
    "headquarters": ("headquarter", "based in", " hq", "head office"),
    "funding": ("series", "raised", "funding", "valuation", "investor"),
    "revenue": ("revenue", "bookings", "sales were", "turnover"),
    "headcount": ("employees", "headcount", "staff of", "people work"),
    "leadership": ("ceo", "chief executive", "cfo", "coo", "cto", "founder"),
    "expansion": ("expan", "move into", "moving into", "launch in", "entering", "new market", "push into"),
    "acquisition": ("acquir", "bought", "purchase of"),
}
NUM_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
             "ten": 10, "eleven": 11, "twelve": 12, "fifteen": 15, "twenty": 20, "thirty": 30, "forty": 40,
             "fifty": 50, "hundred": 100}
_NUM = re.compile(r"(\$)?(\d[\d,]*(?:\.\d+)?)\s*(%|percent|[kmb]\b|million|billion|thousand)?", re.I)
_SERIES = re.compile(r"\bseries ([a-h])\b", re.I)
_PROPER = re.compile(r"\b([A-Z][a-zA-Z\u00C0-\u017F&.'-]+(?:\s+[A-Z][a-zA-Z\u00C0-\u017F&.'-]+)*)")
_COMMON = {"I", "I'm", "I've", "I'd", "I'll", "The", "A", "An", "And", "But", "So", "Since", "With", "When", "What",
           "How", "Why", "Who", "Which", "Where", "Is", "Are", "Do", "Does", "Can", "Could", "Would", "Will", "May",
           "That", "This", "These", "Those", "It", "Its", "My", "Our", "Your", "You", "We", "They", "Then", "Yes",
           "No", "Hi", "Hello", "Thanks", "Thank", "Good", "Great", "Honestly", "Also", "One", "Two", "Three", "If",
           "At", "In", "On", "For", "From", "Before", "After", "As", "Let's", "Here's", "That's", "There", "Just",
           "Look", "Well", "Sure", "Okay", "OK", "Last", "Next", "First", "Second", "Every", "Any", "All", "Q1",
           "Q2", "Q3", "Q4", "Mr", "Ms", "Dr", "Oh", "Frankly", "Really", "Absolutely", "Right", "Not", "Once"}


@dataclass
class Detail:
    """A checkable piece of a sentence: its kind and normalised value."""

    kind: str  # year | money | percent | count | series | name
    value: str
    text: str


def details(sentence: str) -> list[Detail]:
    """Numbers, years, funding series and proper names in a sentence."""
    found = [Detail("series", m.group(1).lower(), m.group(0)) for m in _SERIES.finditer(sentence)]
    for m in _NUM.finditer(sentence):
        found.append(_number(m))
    for m in _PROPER.finditer(sentence):
        words = [w for w in m.group(1).split() if w.strip(".'") not in _COMMON]
        if m.start() == _first_word_start(sentence) and len(words) == 1:
            continue  # a lone capitalised first word is usually just the start of the sentence
        if words and not _SERIES.match(m.group(1)):
            value = re.sub(r"'s$", "", " ".join(words).lower()).strip(".'")
            found.append(Detail("name", value, " ".join(words)))
    return found


def _first_word_start(sentence: str) -> int:
    m = re.search(r"[A-Za-z]", sentence)
    return m.start() if m else -1


def _number(m: re.Match) -> Detail:
    value = float(m.group(2).replace(",", ""))
    unit = (m.group(3) or "").lower()
    scale = {"k": 1e3, "thousand": 1e3, "m": 1e6, "million": 1e6, "b": 1e9, "billion": 1e9}.get(unit, 1)
    if unit in ("%", "percent"):
        return Detail("percent", f"{value:g}", m.group(0))
    if m.group(1) or scale != 1:
        return Detail("money", f"{value * scale:g}", m.group(0))
    if 1900 <= value <= 2100 and value.is_integer():
        return Detail("year", f"{value:g}", m.group(0))
    return Detail("count", f"{value:g}", m.group(0))


class PackFacts:
    """The pack split into sentences, with every detail it states."""

    def __init__(self, pack: Pack) -> None:
        self.pack = pack
        self.sentences = [(s.title, sent) for s in pack.sections for sent in _sentences(s.text)]
        self.values = {(d.kind, d.value) for _, sent in self.sentences for d in details(sent)}
        self.names = {d.value for _, sent in self.sentences for d in details(sent) if d.kind == "name"}
        text = pack.full_text().lower()
        self.lower = text
        own = {pack.name.lower(), *pack.name.lower().split()}
        self.company_words = own | {pack.id.split("-")[0]}

    def has(self, d: Detail) -> bool:
        """True when the pack states this detail."""
        if d.kind == "name":
            return d.value in self.lower or any(d.value in n or n in d.value for n in self.names if len(n) > 3)
        if d.kind == "count" and d.value in {f"{v:g}" for v in NUM_WORDS.values()}:
            return (d.kind, d.value) in self.values or d.text.lower() in self.lower
        return (d.kind, d.value) in self.values

    def slot_sentences(self, slot: str) -> list[tuple[str, str]]:
        """Pack sentences that state the slot."""
        return [(t, s) for t, s in self.sentences if _slot_hit(slot, s)]

    def best_passage(self, sentence: str) -> tuple[str, str]:
        """The pack sentence sharing most details and words with a sentence."""
        words = set(re.findall(r"[a-z0-9]{4,}", sentence.lower()))
        return max(self.sentences, key=lambda ts: len(words & set(re.findall(r"[a-z0-9]{4,}", ts[1].lower()))),
                   default=("", ""))


@functools.lru_cache(maxsize=32)
def _cached_facts(path: str, mtime: float, pack_json: str) -> PackFacts:
    return PackFacts(Pack.model_validate_json(pack_json))


def pack_facts(pack: Pack) -> PackFacts:
    """PackFacts for a pack, cached while its file is unchanged."""
    mtime = os.path.getmtime(pack.path) if pack.path and os.path.exists(pack.path) else 0.0
    return _cached_facts(pack.path, mtime, pack.model_dump_json())


def refers_to_company(sentence: str, facts: PackFacts) -> bool:
    """True when a sentence talks about the company (by name, as `you/your`, or by a pack name)."""
    low = sentence.lower()
    if re.search(r"\b(you|your|you're|you've|yours)\b", low) or any(w in low for w in facts.company_words):
        return True
    return any(d.kind == "name" and facts.has(d) for d in details(sentence))


def check_sentence(sentence: str, quote: Quote, facts: PackFacts, own_names: set[str]) -> Claim | None:
    """A claim about the company in one candidate sentence, checked; None when it states nothing checkable."""
    if not refers_to_company(sentence, facts):
        return None
    slots = [s for s in SLOTS if _slot_hit(s, sentence)]
    if not slots and _own_record(sentence, facts):
        return None
    found = [d for d in details(sentence) if d.value not in own_names and d.value not in facts.company_words
             and not _own_clause(d, sentence, facts)]
    wrong = [d for d in found if not facts.has(d) and _conflicts(d, slots, facts, sentence)]
    right = [d for d in found if facts.has(d)]
    if wrong:
        return _claim(quote, "contradicted", facts, sentence, f"the pack states a different value than "
                      f"{', '.join(d.text for d in wrong)}", slots)
    unknown = [d for d in found if not facts.has(d) and d.kind in ("name", "series") and not _own_history(d, sentence)]
    if unknown and not right:
        return _claim(quote, "unsupported", facts, sentence, f"the pack never mentions "
                      f"{', '.join(d.text for d in unknown)}", slots)
    if right:
        return _claim(quote, "supported", facts, sentence, f"the pack states {', '.join(d.text for d in right)}", slots,
                      right)
    return None


def _slot_hit(slot: str, sentence: str) -> bool:
    return any(re.search(r"\b" + re.escape(k.strip()), sentence, re.I) for k in SLOTS[slot])


def _own_record(sentence: str, facts: PackFacts) -> bool:
    """A first-person sentence that never names the company talks about the candidate's own record."""
    low = sentence.lower()
    names_company = re.search(r"\b(you|your|you're)\b", low) or any(w in low for w in facts.company_words)
    return bool(re.search(r"\b(i|my|we|our)\b", low)) and not names_company


def _conflicts(d: Detail, slots: list[str], facts: PackFacts, sentence: str) -> bool:
    """A value is contradicted when the pack gives the same slot a value of the same kind."""
    if d.kind == "name" and not _right_after_slot(d, slots, sentence):
        return False  # a name elsewhere in the sentence is usually the candidate's own context
    for slot in slots:
        for _, sent in facts.slot_sentences(slot):
            if any(x.kind == d.kind for x in details(sent)) and d.kind in ("year", "money", "series", "name"):
                return True
    return False


def _right_after_slot(d: Detail, slots: list[str], sentence: str) -> bool:
    low = sentence.lower()
    pos = low.find(d.text.lower())
    for slot in slots:
        for key in SLOTS[slot]:
            for m in re.finditer(r"\b" + re.escape(key.strip()), low):
                if 0 <= pos - m.end() <= 40:
                    return True
    return False


def _own_clause(d: Detail, sentence: str, facts: PackFacts) -> bool:
    """A detail in a clause about the candidate's own record ("I grew revenue from $12M to $19M")."""
    for clause in re.split(r"[,;:]|\band\b|\bwhich\b|\bbut\b", sentence):
        if d.text in clause:
            low = clause.lower()
            mine = re.search(r"\b(i|we|my|our)\b", low) and not re.search(r"\b(i|we) (know|saw|read|noticed|heard)\b", low)
            theirs = re.search(r"\b(you|your|you're)\b", low) or any(w in low for w in facts.company_words)
            return bool(mine) and not theirs
    return False


def _own_history(d: Detail, sentence: str) -> bool:
    return bool(re.search(r"\b(at|with|from|for|joined|left)\s+" + re.escape(d.text), sentence)) and \
        bool(re.search(r"\b(i|my|we)\b", sentence, re.I))


def _claim(quote: Quote, status: str, facts: PackFacts, sentence: str, reason: str, slots: list[str],
           matched: list[Detail] | None = None) -> Claim:
    stating = [(t, p) for t, p in facts.sentences if matched and any(facts.has(d) and _in(d, p) for d in matched)]
    passages = stating or [p for s in slots for p in facts.slot_sentences(s)] or [facts.best_passage(sentence)]
    section, passage = max(passages, key=lambda tp: sum(_in(d, tp[1]) for d in matched or [])) if stating \
        else passages[0]
    return Claim(quote=quote, status=status, passage=passage, section=section, reason=reason)


def _in(d: Detail, passage: str) -> bool:
    return any((x.kind, x.value) == (d.kind, d.value) for x in details(passage)) or d.text.lower() in passage.lower()


def _sentences(text: str) -> list[str]:
    return [s.strip() for s in re.split(r"(?<=[.!?])\s+|\n+", text) if s.strip()]


def sentences(text: str) -> list[str]:
    """Split a turn into sentences."""
    return _sentences(text)
