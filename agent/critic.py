"""The critic: rubric in, Critique out. Rules first, one focused model question where they are unsure."""
from __future__ import annotations

from collections.abc import Callable

from pydantic import BaseModel, Field

from agent import guard, notes, prompts
from agent.claims import PackFacts, check_sentence
from agent.critic_rules import RULES, Context, Line, Verdict, split_lines, tone_of
from agent.llm import ChatModel
from agent.packs import Pack
from agent.schemas import Claim, CriterionResult, Critique, KeyPointCheck, Quote, RoundTone
from agent.transcript import SessionExport

PASS_SCORE = 60
KEY_POINT_SIMILARITY = 0.55


class JudgeAnswer(BaseModel):
    """The model's answer to one focused question."""

    answer: bool = Field(description="True when the candidate passes the criterion.")
    quote: str = Field("", description="The exact words from the lines that decide it.")


class Critic:
    """Judges a transcript against the rubric and the company pack."""

    def __init__(self, model: Callable[[], ChatModel] | ChatModel, knowledge=None, settings=None) -> None:
        self._model = model
        self.knowledge = knowledge
        self.prompt = prompts.load("critic", settings.prompts_dir if settings else None)
        self.rubric = notes.load("rubric")
        self.model_used = ""

    @property
    def model(self) -> ChatModel:
        """The model, started only if a rule is unsure."""
        model = self._model() if callable(self._model) and not hasattr(self._model, "structured") else self._model
        self.model_used = model.name
        return model

    def critique(self, export: SessionExport, pack: Pack, key_points: list[str] | None = None) -> Critique:
        """The whole judgement of one session."""
        lines = split_lines(export.candidate_turns())
        facts = PackFacts(pack)
        ctx = Context(lines, facts, self._claims(lines, facts, pack), [r.round for r in export.rounds])
        checks = self._key_points(key_points if key_points is not None else export.key_points, lines)
        results = [self._judge(c, ctx, checks, export) for c in self.rubric["criteria"]]
        return self._assemble(export, pack, ctx, results, checks)

    def _claims(self, lines: list[Line], facts: PackFacts, pack: Pack) -> list[Claim]:
        own = {w.lower() for w in (pack.interviewer.name, *pack.interviewer.name.split())}
        claims = [c for ln in lines if (c := check_sentence(ln.text, ln.quote(), facts, own))]
        for claim in claims:  # show the passage retrieval finds nearest, when the slot did not pick one
            if self.knowledge is not None and claim.status != "contradicted":
                hits = self.knowledge.retrieve(pack.id, claim.quote.text, k=1)
                if hits and claim.status == "unsupported":
                    claim.passage, claim.section = hits[0].text, hits[0].section
        return claims

    def _judge(self, crit: dict, ctx: Context, checks: list[KeyPointCheck], export: SessionExport) -> CriterionResult:
        verdict, method = RULES[crit["id"]](ctx), "rule"
        if crit["id"] == "key_points" and checks:
            verdict = _key_point_verdict(checks)
        if verdict.unsure:
            verdict, method = self._ask(crit, verdict, ctx), "rule+model"
        evidence = [q for q in verdict.evidence if is_verbatim(q, export)]
        advice = crit["advice_pass"] if verdict.passed else crit["advice_fail"]
        return CriterionResult(id=crit["id"], title=crit["title"], passed=verdict.passed, evidence=evidence,
                               reason=verdict.reason, advice=" ".join(advice.split()), method=method)

    def _ask(self, crit: dict, verdict: Verdict, ctx: Context) -> Verdict:
        """One focused, schema-constrained question to the model about the relevant lines."""
        # Lines that try to instruct a model are evidence of nothing here; the judge never sees them.
        shown = [q.text for q in verdict.evidence] or [ln.text for ln in ctx.lines[:20]]
        lines = "\n".join(f"- {t}" for t in shown if not guard.looks_like_injection(t)) or "- (no usable lines)"
        messages = [{"role": "system", "content": self.prompt.render("system")},
                    {"role": "user", "content": self.prompt.render(
                        "question", title=crit["title"], description=" ".join(crit["description"].split()),
                        passing=" ".join(crit["pass"].split()), failing=" ".join(crit["fail"].split()), lines=lines)}]
        answer = self.model.structured(messages, JudgeAnswer, max_tokens=120)
        quoted = [q for q in verdict.evidence if answer.quote and answer.quote.strip() in q.text] or verdict.evidence
        return Verdict(answer.answer, quoted, f"{verdict.reason} Judged by the model: "
                                              f"{'passes' if answer.answer else 'does not pass'}.")

    def _key_points(self, points: list[str], lines: list[Line]) -> list[KeyPointCheck]:
        """Match each planned point to the candidate sentence nearest in meaning."""
        if not points or not lines:
            return []
        from agent.embeddings import get_embedding_function

        embed = get_embedding_function()
        pv, lv = embed(points), embed([ln.text for ln in lines])
        checks = []
        for point, p in zip(points, pv):
            sims = [sum(a * b for a, b in zip(p, v)) for v in lv]
            best = max(range(len(sims)), key=sims.__getitem__)
            ok = sims[best] >= KEY_POINT_SIMILARITY
            checks.append(KeyPointCheck(point=point, conveyed=ok, quote=lines[best].quote() if ok else None))
        return checks

    def _assemble(self, export: SessionExport, pack: Pack, ctx: Context, results: list[CriterionResult],
                  checks: list[KeyPointCheck]) -> Critique:
        weights = {c["id"]: c["weight"] for c in self.rubric["criteria"]}
        judged = [r for r in results if r.passed is not None]
        total = sum(weights[r.id] for r in judged) or 1
        score = round(100 * sum(weights[r.id] for r in judged if r.passed) / total)
        by_id = {r.id: r for r in results}
        verdict = score >= PASS_SCORE and bool(by_id["key_points"].passed) and bool(by_id["value_to_employer"].passed)
        tones = [RoundTone(round=name, tone=tone, evidence=q) for i, name in enumerate(ctx.rounds)
                 for tone, q in [tone_of([ln for ln in ctx.lines if ln.round == i])]]
        return Critique(
            session_id=export.id, company_id=pack.id, sales_call=verdict, score=score, criteria=results,
            claims=ctx.claims, tone=tones, key_points=checks, next_time=self._next_time(results, weights),
            # the rules' phrase signals are part of the rubric as applied: a change to either is a new version
            rubric_version=f"{self.rubric.get('version', '')}+signals.{notes.load('signals').get('version', '')}",
            prompt_version=self.prompt.tag,
            model=self.model_used or "rules only")

    def _next_time(self, results: list[CriterionResult], weights: dict[str, int]) -> list[str]:
        """The three changes that would help most: the heaviest failures first."""
        failed = sorted((r for r in results if r.passed is False), key=lambda r: -weights[r.id])
        kept = sorted((r for r in results if r.passed), key=lambda r: -weights[r.id])
        return [f"{r.title}: {r.advice}" for r in (failed + kept)[:3]]


def _key_point_verdict(checks: list[KeyPointCheck]) -> Verdict:
    made = [c for c in checks if c.conveyed]
    passed = len(made) * 2 >= len(checks)
    missing = ", ".join(c.point for c in checks if not c.conveyed)
    return Verdict(passed, [c.quote for c in made if c.quote][:3],
                   f"Conveyed {len(made)} of {len(checks)} planned points" + (f"; missed: {missing}." if missing else "."))


def is_verbatim(quote: Quote, export: SessionExport) -> bool:
    """True when the quote is word for word inside the turn it names."""
    try:
        return bool(quote.text) and quote.text in export.rounds[quote.round].turns[quote.turn].text
    except IndexError:
        return False
