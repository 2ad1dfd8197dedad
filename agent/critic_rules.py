"""Deterministic checks, one per rubric criterion, over the candidate's own sentences.

Each returns a Verdict with verbatim quotes, or names the absence it found. `unsure` marks
the cases plain text cannot settle; the critic then asks the model one focused question.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from agent import guard, notes
from agent.claims import PackFacts, details, sentences
from agent.schemas import Claim, Quote


@dataclass
class Line:
    """One candidate sentence with where it was said."""

    round: int
    turn: int
    text: str
    nth: int  # which candidate line of its round, from 0
    of: int  # how many candidate lines the round has

    def quote(self) -> Quote:
        """This sentence as a verbatim quote."""
        return Quote(round=self.round, turn=self.turn, text=self.text)


@dataclass
class Verdict:
    """A rule's answer for one criterion."""

    passed: bool | None
    evidence: list[Quote] = field(default_factory=list)
    reason: str = ""
    unsure: bool = False


@dataclass
class Context:
    """Everything the rules look at."""

    lines: list[Line]
    facts: PackFacts
    claims: list[Claim]
    rounds: list[str]


@lru_cache(maxsize=1)
def _signals() -> dict[str, list[re.Pattern]]:
    data = notes.load("signals")
    return {k: [re.compile(p, re.I) for p in v] for k, v in data.items() if k != "version"}


def hit(kind: str, text: str) -> bool:
    """True when a sentence carries a signal of this kind."""
    return any(p.search(text) for p in _signals()[kind])


def split_lines(candidate_turns: list[tuple[int, int, str]]) -> list[Line]:
    """Candidate turns -> sentences with positions."""
    per_round: dict[int, int] = {}
    for r, _, _ in candidate_turns:
        per_round[r] = per_round.get(r, 0) + 1
    seen: dict[int, int] = {}
    lines = []
    for r, t, text in candidate_turns:
        nth = seen.get(r, 0)
        seen[r] = nth + 1
        # A turn that tries to instruct a model is not part of the interview: it earns and costs nothing.
        said = sentences(text)
        if not any(guard.looks_like_injection(s) for s in said):
            lines += [Line(r, t, s, nth, per_round[r]) for s in said]
    return lines


def _with(ctx: Context, kind: str, questions: bool = False) -> list[Line]:
    return [ln for ln in ctx.lines if hit(kind, ln.text) and (not questions or "?" in ln.text)]


def _concrete(text: str) -> bool:
    return bool(re.search(r"\d", text)) or any(
        w in text.lower().split() for w in ("two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
                                            "eleven", "twelve", "twenty", "doubled", "tripled", "half"))


def compensation_timing(ctx: Context) -> Verdict:
    found = _with(ctx, "compensation")
    if found:
        return Verdict(False, [ln.quote() for ln in found[:3]], "Raised pay or perks before any offer.")
    return Verdict(True, [], "Never raised salary, bonus, benefits or perks.")


def closing(ctx: Context) -> Verdict:
    found = [ln for ln in _with(ctx, "closing") if ("?" in ln.text or re.search(r"\b(may|can|could) i\b", ln.text, re.I))
             and ln.nth >= ln.of - 3]
    if found:
        return Verdict(True, [ln.quote() for ln in found[:3]], "Asked closing questions before the meeting ended.")
    return Verdict(False, [], "No closing question (anything else, decision timing, may I follow up) "
                              "in the last three lines of any round.")


def follow_up(ctx: Context) -> Verdict:
    pushy = _with(ctx, "pushy")
    if pushy:
        return Verdict(False, [ln.quote() for ln in pushy[:3]], "Promised calls or pressure instead of a measured follow-up.")
    found = _with(ctx, "follow_up")
    if found:
        return Verdict(True, [ln.quote() for ln in found[:2]], "Committed to a prompt note and an email follow-up.")
    return Verdict(False, [], "Never said they would send a thank-you note or follow up by email.")


def needs_discovery(ctx: Context) -> Verdict:
    found = [ln for ln in _with(ctx, "needs", questions=True) if not hit("compensation", ln.text)]
    if found:
        return Verdict(True, [ln.quote() for ln in found[:3]], "Asked about the employer's priorities, needs or measures.")
    return Verdict(False, [], "Asked nothing about priorities, what the hire must bring, or how success is measured.")


def informed_questions(ctx: Context) -> Verdict:
    questions = [ln for ln in ctx.lines if "?" in ln.text and not hit("compensation", ln.text)]
    bad = {(c.quote.round, c.quote.turn, c.quote.text) for c in ctx.claims if c.status != "supported"}
    good = [ln for ln in questions if (ln.round, ln.turn, ln.text) not in bad and _grounded(ln.text, ctx.facts)]
    if good:
        return Verdict(True, [ln.quote() for ln in good[:3]], "Asked questions built on specific company facts.")
    if questions:
        return Verdict(False, [ln.quote() for ln in questions[:2]],
                       "Questions were generic or rested on facts the research pack does not support.")
    return Verdict(False, [], "Asked no questions about the company.")


def _grounded(text: str, facts: PackFacts) -> bool:
    own = facts.company_words | {facts.pack.interviewer.name.lower(), facts.pack.interviewer.name.split()[0].lower()}
    return any(facts.has(d) and d.value not in own for d in details(text) if d.kind != "count")


def evidence(ctx: Context) -> Verdict:
    found = [ln for ln in ctx.lines if hit("first_person", ln.text) and hit("result_verb", ln.text)
             and _concrete(ln.text) and not _only_pack_numbers(ln.text, ctx.facts)]
    if found:
        return Verdict(True, [ln.quote() for ln in found[:3]], "Backed claims with concrete results.")
    stories = [ln for ln in ctx.lines if hit("first_person", ln.text) and hit("result_verb", ln.text)
               and len(ln.text.split()) >= 15]
    if stories:
        return Verdict(None, [ln.quote() for ln in stories[:3]], "Told stories without a measurable result.", True)
    return Verdict(False, [], "No concrete example with a result or a number anywhere.")


def _only_pack_numbers(text: str, facts: PackFacts) -> bool:
    nums = [d for d in details(text) if d.kind in ("money", "percent", "count", "year")]
    return bool(nums) and all(facts.has(d) for d in nums) and not re.search(
        r"\b(i|we)\b[^.?]{0,30}\b(grew|cut|closed|took|built|led|signed|saved|doubled|reduced)", text, re.I)


def key_points(ctx: Context) -> Verdict:
    early = [ln for ln in ctx.lines if ln.nth < max(2, ln.of - 2)]
    signposted = [ln for ln in early if hit("signpost", ln.text) and _concrete_turn(ctx, ln)]
    pitches = [ln for ln in early if hit("employer", ln.text) and _concrete_turn(ctx, ln) and "?" not in ln.text]
    if signposted:
        return Verdict(True, [ln.quote() for ln in (signposted + pitches)[:3]],
                       "Set out their own points and brought them up unprompted.")
    turns = len({(ln.round, ln.turn) for ln in pitches})
    if turns >= 2:
        return Verdict(True, [ln.quote() for ln in pitches[:3]], "Made concrete pitches of their own in several answers.")
    if turns == 1:
        return Verdict(None, [ln.quote() for ln in pitches[:3]], "Made one concrete pitch of their own.", True)
    return Verdict(False, [], "Never set out the points they came to make; only reacted to questions.")


def _concrete_turn(ctx: Context, line: Line) -> bool:
    return any(_concrete(ln.text) or _grounded(ln.text, ctx.facts) for ln in ctx.lines
               if (ln.round, ln.turn) == (line.round, line.turn))


def value_to_employer(ctx: Context) -> Verdict:
    giving = [ln for ln in _with(ctx, "employer") if not hit("hard_sell", ln.text) and "?" not in ln.text]
    taking = _with(ctx, "self_focus") + _with(ctx, "compensation")
    if len(giving) >= 2 and len(giving) >= 2 * len(taking):
        return Verdict(True, [ln.quote() for ln in giving[:3]], "Kept the talk on what they would do for the employer.")
    if not giving:
        return Verdict(False, [ln.quote() for ln in taking[:3]], "Talked about what they want, never what they would do for the employer.")
    if len(taking) >= len(giving):
        return Verdict(False, [ln.quote() for ln in taking[:3]], "More about what the job gives them than what they give it.")
    return Verdict(None, [ln.quote() for ln in (giving + taking)[:3]], "Mixed framing.", True)


def objection_handling(ctx: Context) -> Verdict:
    doubts = _with(ctx, "doubt_topic")
    if not doubts:
        return Verdict(None, [], "No doubt about the candidate came up in their lines.")
    turns = {(ln.round, ln.turn) for ln in doubts}
    answer = [ln for ln in ctx.lines if (ln.round, ln.turn) in turns]
    defensive = [ln for ln in answer if hit("defensive", ln.text)]
    if defensive:
        return Verdict(False, [ln.quote() for ln in defensive[:3]], "Met the doubt defensively instead of turning to value.")
    if any(_concrete(ln.text) or hit("employer", ln.text) for ln in answer):
        return Verdict(True, [ln.quote() for ln in doubts[:2]], "Named the doubt calmly and answered it with value.")
    return Verdict(None, [ln.quote() for ln in doubts[:2]], "Touched the doubt without a clear counter.", True)


def rapport(ctx: Context) -> Verdict:
    terms = _background_terms(ctx.facts)
    common = [ln for ln in ctx.lines if _mentions(ln.text, terms)]
    invented = [ln for ln in ctx.lines if hit("interviewer_ref", ln.text) and not _mentions(ln.text, terms)]
    flattery = _with(ctx, "flattery")
    if invented:
        return Verdict(False, [ln.quote() for ln in invented[:2]], "Claimed common ground the interviewer's profile does not show.")
    if len(flattery) >= 2 or (flattery and len({ln.turn for ln in common}) >= 2):
        return Verdict(False, [ln.quote() for ln in (flattery or common)[:3]], "Overdid the rapport.")
    if common:
        return Verdict(True, [ln.quote() for ln in common[:2]], "Built brief rapport on researched common ground.")
    return Verdict(False, [], "No researched common ground with the interviewer.")


def _background_terms(facts: PackFacts) -> set[str]:
    """Personal details of the interviewer (names, schools, hobbies) that the company facts do not mention."""
    bg = facts.pack.interviewer.background
    names = {d.value for d in details(bg) if d.kind == "name"}
    names |= {" ".join(n.split()[:2]) for n in names if len(n.split()) > 2}
    words = {w for w in re.findall(r"[a-z]{5,}", bg.lower()) if w in _HOBBY_WORDS}
    body = "\n".join(s.text for s in facts.pack.sections).lower()
    return {t for t in names | words if len(t) > 2 and t not in body and t not in facts.company_words}


def _mentions(text: str, terms: set[str]) -> bool:
    """True when the text names a term: names as written, single words by stem (`nurse` meets `nursing`)."""
    low = text.lower()
    stems = {_stem(w) for w in re.findall(r"[a-z]+", low)}
    return any(t in low if " " in t else _stem(t) in stems for t in terms)


def _stem(word: str) -> str:
    return re.sub(r"(ing|es|e|s)$", "", word) if len(word) > 4 else word


_HOBBY_WORDS = {"marathon", "marathons", "mandolin", "bluegrass", "hockey", "goalie", "motorcycles", "motorcycle",
                "cycling", "climbing", "sailing", "chess", "running", "triathlon", "guitar", "baking", "spanish",
                "nursing", "nurse", "icu", "paramedic", "teacher", "army", "navy", "veteran", "engineering",
                "buckeyes", "rowing", "soccer", "football", "skiing", "fishing", "golf"}


def tone_of(lines: list[Line]) -> tuple[str, list[Quote]]:
    """The dominant tone of one round's lines."""
    for tone, kind in (("hard_sell", "hard_sell"), ("presumptive", "presumptive"), ("defensive", "defensive")):
        found = [ln for ln in lines if hit(kind, ln.text)]
        if found:
            return tone, [ln.quote() for ln in found[:2]]
    questions = [ln for ln in lines if "?" in ln.text]
    words = sum(len(ln.text.split()) for ln in lines)
    if not questions and words < 12 * max(1, len({ln.turn for ln in lines})):
        return "passive", []
    return "consultative", [ln.quote() for ln in questions[:1]]


def consistent_tone(ctx: Context) -> Verdict:
    if len(ctx.rounds) < 2:
        return Verdict(None, [], "A single round: there is no earlier tone to keep.")
    tones = [tone_of([ln for ln in ctx.lines if ln.round == r]) for r in range(len(ctx.rounds))]
    changed = [(r, t) for r, t in enumerate(tones[1:], 1) if t[0] != tones[0][0] or t[0] in ("hard_sell", "presumptive")]
    if changed:
        r, (tone, quotes) = changed[0]
        return Verdict(False, quotes, f"The tone moved from {tones[0][0]} to {tone} in the {ctx.rounds[r]} round.")
    return Verdict(True, tones[-1][1], f"Kept the same {tones[0][0]} tone in every round.")


def company_research(ctx: Context) -> Verdict:
    wrong = [c for c in ctx.claims if c.status == "contradicted"]
    if wrong:
        return Verdict(False, [c.quote for c in wrong[:3]], "Stated company facts the research pack contradicts.")
    right = [c for c in ctx.claims if c.status == "supported"]
    # The tie is a statement of what the candidate would do; a question ("could I tell you...?") is not one.
    tied = [c for c in right if any(
        hit("employer", ln.text) and "?" not in ln.text for ln in ctx.lines
        if (ln.round, ln.turn) == (c.quote.round, c.quote.turn))]
    if tied:
        return Verdict(True, [c.quote for c in tied[:3]], "Used accurate company facts and tied them to their contribution.")
    if right:
        return Verdict(False, [c.quote for c in right[:2]], "Mentioned accurate facts but never tied them to what they would do.")
    return Verdict(False, [], "No specific, accurate fact about the company.")


RULES = {"key_points": key_points, "company_research": company_research, "value_to_employer": value_to_employer,
         "needs_discovery": needs_discovery, "informed_questions": informed_questions,
         "compensation_timing": compensation_timing, "objection_handling": objection_handling, "evidence": evidence,
         "closing": closing, "follow_up": follow_up, "consistent_tone": consistent_tone, "rapport": rapport}
