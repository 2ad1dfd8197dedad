"""The hiring manager: picks this turn's move, gathers facts, builds the prompt, streams the reply."""
from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from agent import guard
from agent.llm import ChatModel, Message, Usage
from agent.packs import Pack
from agent.prompts import PromptFile
from agent.replystream import GuardedStream
from agent.tokens import count_messages

# Old turns are dropped eight messages (four exchanges) at a time: the prompt prefix then stays the
# same for several turns, so llama.cpp re-reads only the newest lines instead of the whole history.
TRIM_STEP = 8


@dataclass
class TurnContext:
    """What the interviewer knows when it answers the newest candidate line."""

    pack: Pack
    round_name: str
    difficulty: str
    history: list[dict]  # this round's turns, {role, text}, the newest candidate line last
    earlier: str = ""  # summary of earlier rounds of the same session
    raised_doubts: set[str] = field(default_factory=set)
    round_length: int | None = None  # planned candidate lines (scripted rounds); None: the round's default
    doubt_questions: dict[str, str] = field(default_factory=dict)


@dataclass
class Plan:
    """The move chosen for this turn."""

    kind: str
    directive: str
    question: str | None = None
    doubt: str | None = None


@dataclass
class Reply:
    """A finished interviewer reply with what produced it."""

    text: str = ""
    meta: dict[str, Any] = field(default_factory=dict)


class Interviewer:
    """A skeptical hiring manager over a chat model and a fact retriever."""

    def __init__(self, model: ChatModel, retrieve, prompt: PromptFile, *, budget: int, reply_tokens: int) -> None:
        self.model, self.retrieve, self.prompt = model, retrieve, prompt
        self.budget, self.reply_tokens = budget, reply_tokens

    def plan(self, ctx: TurnContext) -> Plan:
        """Choose this turn's move from the round's progress, the candidate's words and the difficulty."""
        data, last = self.prompt.data, ctx.history[-1]["text"]
        n = sum(1 for t in ctx.history if t["role"] == "candidate")
        length = ctx.round_length or data["round_length"][ctx.round_name]
        asked = "?" in last
        if guard.looks_like_injection(last):
            return self._plan("injection", self._next_question(ctx, n))
        if n >= length:
            return Plan("close", data["directives"]["close"])
        if n == length - 1:
            return self._plan("invite", data["questions"]["invite"])
        if n == 1:
            return self._plan("opening", data["questions"]["opening"][ctx.round_name])
        doubt = self._doubt(ctx, last, n)
        if doubt and not asked:
            return self._plan("doubt", ctx.doubt_questions[doubt], doubt)
        question = self._next_question(ctx, n)
        return self._plan("answer" if asked else "ask", question)

    def _plan(self, kind: str, question: str, doubt: str | None = None) -> Plan:
        return Plan(kind, self.prompt.data["directives"][kind], question, doubt)

    def _doubt(self, ctx: TurnContext, text: str, n: int) -> str | None:
        """A doubt the candidate's words open, or at `tough` one the manager raises anyway."""
        for doubt, triggers in self.prompt.data["doubt_triggers"].items():
            if doubt not in ctx.raised_doubts and doubt in ctx.doubt_questions and _says(text, triggers):
                return doubt
        if ctx.difficulty == "tough" and n % 2 == 1:
            return next((d for d in self.prompt.data["tough_doubts"]
                         if d not in ctx.raised_doubts and d in ctx.doubt_questions), None)
        return None

    def _next_question(self, ctx: TurnContext, n: int) -> str:
        bank = self.prompt.data["questions"]
        pool = bank[ctx.difficulty] if ctx.difficulty != "realistic" else bank["realistic"]
        mixed = pool + bank["realistic"] if ctx.difficulty != "realistic" else pool
        offset = {"screen": 0, "second": 3, "final": 5}[ctx.round_name]
        return mixed[(n - 2 + offset) % len(mixed)]

    def messages(self, ctx: TurnContext, plan: Plan, facts: list[str]) -> list[Message]:
        """The prompt: stable persona first, then the conversation, the per-turn note last."""
        system = self._system(ctx)
        note = self.prompt.render("turn_note", facts="\n".join(f"- {f}" for f in facts), directive=plan.directive)
        convo = [{"role": "user" if t["role"] == "candidate" else "assistant",
                  "content": guard.clean_candidate_text(t["text"]) if t["role"] == "candidate" else t["text"]}
                 for t in ctx.history]
        return self._fit([{"role": "system", "content": system}], convo, {"role": "system", "content": note})

    def _system(self, ctx: TurnContext) -> str:
        p, who = ctx.pack, ctx.pack.interviewer
        return self.prompt.render(
            "system", name=who.name, title=who.title, age=who.age, background=who.background, company=p.name,
            role=p.role, round=ctx.round_name, style=self.prompt.data["styles"][ctx.difficulty],
            profile=profile_facts(p), earlier=ctx.earlier)

    def _fit(self, head: list[Message], convo: list[Message], note: Message) -> list[Message]:
        """Drop the oldest turns in steps, keeping a short summary, until the prompt fits the budget."""
        start = 0
        while True:
            kept = convo[start:]
            summary = self._trimmed_summary(convo[:start])
            msgs = head + summary + kept + [note]
            if count_messages(msgs) + self.reply_tokens <= self.budget or len(kept) <= 2:
                return msgs
            start += TRIM_STEP

    def _trimmed_summary(self, dropped: list[Message]) -> list[Message]:
        said = [first_sentence(m["content"]) for m in dropped  # a system message: candidate instructions stay out
                if m["role"] == "user" and not guard.looks_like_injection(m["content"])][-6:]
        if not said:
            return []
        return [{"role": "system", "content": self.prompt.render("summary_of_trimmed", points=" | ".join(said))}]

    def stream(self, ctx: TurnContext, result: Reply) -> Iterator[str]:
        """Stream the reply; `result` holds the final text and its metadata when the stream ends."""
        plan = self.plan(ctx)
        query = ctx.history[-1]["text"] if plan.kind != "opening" else "overview interviewer background"
        hits = self.retrieve(ctx.pack.id, query)
        if plan.kind in ("answer", "answer_only") and not answerable(ctx.pack, query, hits):
            plan = self._plan("unknown", plan.question)  # what the pack does not say, the manager does not know
        if plan.kind in ("answer", "answer_only", "unknown", "close"):
            hits = [h for h in hits if getattr(h, "relevant", True)]
        facts = [f for c in hits if (f := guard.clean_fact(c.text))]
        msgs = self.messages(ctx, plan, facts)
        usage = Usage()
        result.meta.update(plan=plan.kind, doubt=plan.doubt, facts=facts, prompt_tokens_est=count_messages(msgs))
        # A reaction is one sentence: a small cap keeps it short and fast; answers get the full budget.
        cap = self.reply_tokens if plan.kind in ("answer", "answer_only", "close") else self.reply_tokens // 3
        invented = _invented_figures(ctx)
        yield from GuardedStream(self.model.stream(msgs, max_tokens=cap, usage=usage),
                                 ctx.pack.interviewer.name, plan.question, result, invented, cap)
        if plan.question:  # the manager's agenda: asked in the persona's words from the question bank
            yield f" {plan.question}" if result.text else plan.question
            result.text = f"{result.text} {plan.question}".strip()
        # Some servers (llama.cpp) report no usage when streaming: fall back to our own count, and say so.
        result.meta.update(prompt_tokens=usage.prompt_tokens or result.meta["prompt_tokens_est"],
                           prompt_tokens_source="server" if usage.prompt_tokens else "tiktoken",
                           completion_tokens=usage.completion_tokens, first_token_s=usage.first_token_s)


def _invented_figures(ctx: TurnContext) -> Callable[[str], list[str]]:
    """A check for figures about the company that neither the pack nor this conversation contains."""
    from agent.grounding import PackIndex, invented_numbers

    facts, echo = PackIndex(ctx.pack), "\n".join([ctx.earlier] + [t["text"] for t in ctx.history])
    return lambda text: invented_numbers(text, facts, echo)


def _says(text: str, phrases: list[str]) -> bool:
    """True when the text contains one of the phrases as whole words."""
    return bool(re.search(r"\b(?:" + "|".join(phrases) + r")\b", text, re.I))


def answerable(pack: Pack, question: str, hits: list) -> bool:
    """True when the pack covers the question: a relevant passage, and no name the pack never mentions."""
    from agent.claims import details, pack_facts

    facts = pack_facts(pack)
    unknown = [d for d in details(question) if d.kind == "name" and not facts.has(d)]
    return not unknown and any(getattr(h, "relevant", True) for h in hits)


def profile_facts(pack: Pack, words: int = 90) -> str:
    """A short, stable fact sheet: the overview and the top priority."""
    parts = [guard.clean_fact(pack.section("overview")), guard.clean_fact(pack.section("priorit"))]  # research is data
    return " ".join(_first_words(p, words // 2) for p in parts if p)


def first_sentence(text: str, words: int = 25) -> str:
    """The first sentence of a text, at most `words` words."""
    return _first_words(re.split(r"(?<=[.!?])\s", text.strip(), maxsplit=1)[0], words)


def _first_words(text: str, n: int) -> str:
    parts = text.split()
    return " ".join(parts[:n]) + (" ..." if len(parts) > n else "")
