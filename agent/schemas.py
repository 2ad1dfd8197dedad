"""Structured outputs shared by the critic, the coach, the UI, the API and the evals (pydantic)."""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class Quote(BaseModel):
    """A verbatim line from the transcript and where it was said."""

    round: int = Field(description="Round index in the session, from 0.")
    turn: int = Field(description="Turn index within the round, from 0.")
    text: str = Field(description="Verbatim text, a substring of that turn.")


class CriterionResult(BaseModel):
    """The verdict on one rubric criterion."""

    id: str = Field(description="Rubric id, e.g. `closing`.")
    title: str = Field("", description="Short human title from the rubric.")
    passed: bool | None = Field(description="True, false, or null when the transcript gives no occasion to judge.")
    evidence: list[Quote] = Field(default_factory=list, description="Verbatim quotes that decide the verdict.")
    reason: str = Field("", description="Why, in one sentence; names the absence when there is no quote.")
    advice: str = Field("", description="One or two concrete sentences for next time.")
    method: Literal["rule", "model", "rule+model"] = Field("rule", description="How the verdict was reached.")


class Claim(BaseModel):
    """A statement the candidate made about the company, checked against the pack."""

    quote: Quote = Field(description="Where the candidate said it.")
    status: Literal["supported", "unsupported", "contradicted"] = Field(description="What the pack says of it.")
    passage: str = Field("", description="The pack passage that decides it (empty when none is relevant).")
    section: str = Field("", description="The pack section of that passage.")
    reason: str = Field("", description="Which detail matches or conflicts.")


class RoundTone(BaseModel):
    """How the candidate sounded in one round."""

    round: str = Field(description="screen, second or final.")
    tone: Literal["consultative", "passive", "hard_sell", "presumptive", "defensive"] = Field(
        description="The dominant tone of the candidate's lines.")
    evidence: list[Quote] = Field(default_factory=list, description="Lines that show the tone.")


class KeyPointCheck(BaseModel):
    """Whether a key point the candidate planned to make was made."""

    point: str = Field(description="The point as the candidate wrote it before the interview.")
    conveyed: bool = Field(description="True when a candidate line carries it.")
    quote: Quote | None = Field(None, description="The line that carries it.")


class Critique(BaseModel):
    """The critic's judgement of a whole session: was it run like a sales call?"""

    session_id: str = Field(description="The session judged.")
    company_id: str = Field(description="The pack used as ground truth.")
    sales_call: bool = Field(description="Overall verdict: did the candidate run the meeting like a sales call?")
    score: int = Field(ge=0, le=100, description="Weighted share of applicable criteria passed, 0 to 100.")
    criteria: list[CriterionResult] = Field(description="One entry per rubric id, in rubric order.")
    claims: list[Claim] = Field(default_factory=list, description="Company facts the candidate stated, checked.")
    tone: list[RoundTone] = Field(default_factory=list, description="Tone per round (multi-round sessions).")
    key_points: list[KeyPointCheck] = Field(default_factory=list, description="The candidate's own planned points.")
    next_time: list[str] = Field(description="The three changes that would help most, most important first.")
    rubric_version: str = Field("", description="Versions of knowledge/rubric.yaml and knowledge/signals.yaml "
                                                "used, e.g. `1+signals.2`.")
    prompt_version: str = Field("", description="Version tag of prompts/critic.yaml used.")
    model: str = Field("", description="Model used for the model-judged parts.")

    def criterion(self, cid: str) -> CriterionResult:
        """One criterion's result by id."""
        return next(c for c in self.criteria if c.id == cid)


class DoubtPrep(BaseModel):
    """A doubt the interviewer is likely to hold and how to meet it."""

    doubt: str = Field(description="The doubt, as the interviewer might put it.")
    counter: str = Field(description="A calm answer that turns to value.")


class PrepBrief(BaseModel):
    """What to prepare before meeting this interviewer at this company."""

    company_id: str = Field(description="Pack id.")
    interviewer: str = Field(description="Interviewer's public profile in one line.")
    key_points: list[str] = Field(description="Three points worth conveying for this role.")
    doubts: list[DoubtPrep] = Field(description="Doubts this interviewer may hold, with counters.")
    questions: list[str] = Field(description="Informed questions tied to the company's news and priorities.")
    common_ground: list[str] = Field(description="Small-talk openers from the interviewer's background.")
    closing_questions: list[str] = Field(description="Questions to ask before the meeting ends.")


class NoteCheck(BaseModel):
    """One rule a thank-you note is checked against."""

    id: Literal["prompt", "specific", "restates_value", "brief", "not_pushy"] = Field(description="Rule id.")
    passed: bool = Field(description="Whether the note meets it.")
    detail: str = Field(description="What was found, or what is missing.")


class NoteCritique(BaseModel):
    """Feedback on a follow-up note the candidate wrote."""

    passed: bool = Field(description="True when every rule passes.")
    checks: list[NoteCheck] = Field(description="One entry per rule.")
    word_count: int = Field(description="Words in the note.")
