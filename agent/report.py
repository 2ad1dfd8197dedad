"""Plain-text rendering of a critique, for the terminal."""
from __future__ import annotations

from agent.schemas import Critique

MARK = {True: "PASS", False: "FAIL", None: " n/a"}


def render_text(c: Critique) -> str:
    """A readable report: verdict, each criterion with quotes and advice, claims, tone, next time."""
    out = [f"Sales call: {'yes' if c.sales_call else 'no'}   score {c.score}/100   "
           f"(rubric v{c.rubric_version}, {c.prompt_version}, {c.model})", ""]
    for r in c.criteria:
        out.append(f"[{MARK[r.passed]}] {r.title} ({r.id}): {r.reason}")
        out += [f"         \"{q.text}\" (round {q.round + 1}, turn {q.turn})" for q in r.evidence]
        out.append(f"         -> {r.advice}")
    if c.claims:
        out += ["", "Company facts you stated:"]
        out += [f"  {cl.status:>12}: \"{cl.quote.text}\" ({cl.reason})" for cl in c.claims]
    if len(c.tone) > 1:
        out += ["", "Tone by round: " + " -> ".join(f"{t.round}: {t.tone}" for t in c.tone)]
    if c.key_points:
        out += ["", "Your planned points:"]
        out += [f"  [{'x' if k.conveyed else ' '}] {k.point}" for k in c.key_points]
    out += ["", "Next time:"] + [f"  {i}. {tip}" for i, tip in enumerate(c.next_time, 1)]
    return "\n".join(out)
