"""Pure rendering of core objects into HTML for the web UI (no model calls, no rubric logic)."""
from __future__ import annotations

from html import escape

from agent.packs import Pack
from agent.schemas import Critique, CriterionResult, NoteCritique, PrepBrief, Quote
from agent.transcript import SessionExport

TONE_STYLE = {  # tone -> (label, css class): green is the tone the critic rewards
    "consultative": ("Consultative", "good"), "passive": ("Passive", "meh"), "hard_sell": ("Hard sell", "bad"),
    "presumptive": ("Presumptive", "bad"), "defensive": ("Defensive", "bad")}
NOTE_RULES = {"prompt": "Sent promptly", "specific": "Specific to this conversation",
              "restates_value": "Restates your value", "brief": "Brief", "not_pushy": "Not pushy"}
CLAIM_STYLE = {"supported": ("Supported", "good"), "unsupported": ("Not in the pack", "meh"),
               "contradicted": ("Contradicted", "bad")}


def e(text: object) -> str:
    """HTML-escape any value."""
    return escape(str(text), quote=True)


def initials(name: str) -> str:
    """Up to two initials for an avatar."""
    return "".join(w[0] for w in name.split()[:2]).upper() or "?"


def profile_card(pack: Pack) -> str:
    """The interviewer's public profile, as a candidate would find it before the meeting."""
    who = pack.interviewer
    return (f'<div class="pr-card pr-profile" id="pr-profile"><div class="pr-avatar">{e(initials(who.name))}</div>'
            f'<div><div class="pr-name">{e(who.name)}</div><div class="pr-title">{e(who.title)} · {e(pack.name)}</div>'
            f'<div class="pr-role">You are interviewing for <b>{e(pack.role)}</b></div>'
            f'<p class="pr-bg">{e(who.background)}</p></div></div>')


def interview_header(pack_name: str, role: str, who: str, round_name: str, difficulty: str) -> str:
    """A one-line strip above the chat: who, what, which round."""
    return (f'<div class="pr-strip"><span class="pr-chip">{e(round_name.title())} round</span>'
            f'<span class="pr-chip pr-chip-soft">{e(difficulty)}</span>'
            f'<span>Meeting <b>{e(who)}</b> at {e(pack_name)} about the <b>{e(role)}</b> role</span></div>')


def _ul(items: list[str], cls: str = "") -> str:
    return f'<ul class="{cls}">' + "".join(f"<li>{e(i)}</li>" for i in items) + "</ul>" if items else \
        '<p class="pr-muted">Nothing found in the pack.</p>'


def prep_brief_html(brief: PrepBrief) -> str:
    """The preparation brief as cards: points, doubts with counters, questions, small talk, closing."""
    points = "".join(f'<div class="pr-point"><span class="pr-num">{i}</span>{e(p)}</div>'
                     for i, p in enumerate(brief.key_points, 1))
    doubts = "".join(f'<div class="pr-doubt"><div class="pr-doubt-q">“{e(d.doubt)}”</div>'
                     f'<div class="pr-doubt-a"><b>Counter:</b> {e(d.counter)}</div></div>' for d in brief.doubts)
    return (f'<div class="pr-brief" id="pr-brief"><p class="pr-muted">{e(brief.interviewer)}</p>'
            f'<h3>Three points to get across</h3><div class="pr-points">{points}</div>'
            f'<h3>Doubts they may hold — and how to answer</h3><div class="pr-doubts">{doubts}</div>'
            f'<div class="pr-cols"><div class="pr-card"><h4>Informed questions to ask</h4>{_ul(brief.questions)}</div>'
            f'<div class="pr-card"><h4>Common ground for small talk</h4>{_ul(brief.common_ground)}</div>'
            f'<div class="pr-card"><h4>Before the meeting ends, ask</h4>{_ul(brief.closing_questions)}</div></div>'
            "</div>")


def status_of(c: CriterionResult) -> str:
    """passed / failed / not applicable, as shown on the page."""
    return "Not applicable" if c.passed is None else "Passed" if c.passed else "Failed"


def verdict_html(critique: Critique) -> str:
    """The verdict banner: a score ring and a plain sentence."""
    good = critique.sales_call
    label = "Sales call: yes" if good else "Sales call: not yet"
    line = ("You ran this meeting like a sales call." if good
            else "You answered questions, but did not yet run the meeting like a sales call.")
    counts = {s: sum(1 for c in critique.criteria if status_of(c) == s) for s in ("Passed", "Failed", "Not applicable")}
    return (f'<div class="pr-verdict {"good" if good else "bad"}" id="pr-verdict">'
            f'<div class="pr-ring" style="--pct:{critique.score}"><span>{critique.score}</span></div>'
            f'<div><div class="pr-verdict-label">{label}</div><div>{line}</div>'
            f'<div class="pr-muted">{counts["Passed"]} passed · {counts["Failed"]} failed · '
            f'{counts["Not applicable"]} not applicable · score {critique.score}/100</div></div></div>')


def next_time_html(items: list[str]) -> str:
    """The three changes for next time, most important first."""
    rows = "".join(f'<div class="pr-point"><span class="pr-num">{i}</span>{e(t)}</div>' for i, t in enumerate(items, 1))
    return f'<div class="pr-card" id="pr-next"><h3>Next time, change these</h3>{rows}</div>'


def quote_html(q: Quote) -> str:
    """One verbatim line with its place in the transcript."""
    where = f"round {q.round + 1}, turn {q.turn + 1}"
    return f'<blockquote class="pr-quote">“{e(q.text)}”<span>{where}</span></blockquote>'


def criterion_html(c: CriterionResult) -> str:
    """One rubric criterion: verdict, reason, quotes, advice."""
    cls = {"Passed": "good", "Failed": "bad"}.get(status_of(c), "na")
    mark = {"good": "✓", "bad": "✗", "na": "–"}[cls]
    quotes = "".join(quote_html(q) for q in c.evidence)
    return (f'<details class="pr-crit {cls}"{" open" if cls == "bad" else ""}><summary><span class="pr-mark">{mark}'
            f'</span><b>{e(c.title or c.id)}</b><span class="pr-tag">{status_of(c)}</span></summary>'
            f'<p>{e(c.reason)}</p>{quotes}<p class="pr-advice"><b>Advice:</b> {e(c.advice)}</p></details>')


def claims_html(critique: Critique) -> str:
    """The claims check as a table with coloured status badges."""
    if not critique.claims:
        return ('<div class="pr-card"><h3>Claims about the company</h3>'
                '<p class="pr-muted">You stated no company facts.</p></div>')
    rows = "".join(
        f'<tr><td><span class="pr-badge {CLAIM_STYLE[c.status][1]}">{CLAIM_STYLE[c.status][0]}</span></td>'
        f'<td>“{e(c.quote.text)}”</td><td>{e(c.passage) or "—"}<div class="pr-muted">{e(c.section)}</div></td>'
        f'<td>{e(c.reason)}</td></tr>' for c in critique.claims)
    return (f'<div class="pr-card" id="pr-claims"><h3>Claims about the company</h3><table class="pr-table">'
            f"<tr><th>Check</th><th>You said</th><th>The pack says</th><th>Why</th></tr>{rows}</table></div>")


def tone_html(critique: Critique) -> str:
    """Tone per round as coloured chips with an example line."""
    if not critique.tone:
        return ""
    chips = "".join(f'<div class="pr-tone {TONE_STYLE[t.tone][1]}"><b>{e(t.round.title())}</b>'
                    f'<span>{TONE_STYLE[t.tone][0]}</span>{quote_html(t.evidence[0]) if t.evidence else ""}</div>'
                    for t in critique.tone)
    return f'<div class="pr-card"><h3>Tone by round</h3><div class="pr-tones">{chips}</div></div>'


def key_points_html(critique: Critique) -> str:
    """Whether each planned key point was conveyed."""
    if not critique.key_points:
        return ""
    rows = "".join(f'<div class="pr-kp {"good" if k.conveyed else "bad"}"><span class="pr-mark">'
                   f'{"✓" if k.conveyed else "✗"}</span><div><b>{e(k.point)}</b>'
                   f'{quote_html(k.quote) if k.quote else "<div class=pr-muted>Not said.</div>"}</div></div>'
                   for k in critique.key_points)
    return f'<div class="pr-card"><h3>Your key points</h3>{rows}</div>'


def critique_details_html(critique: Critique) -> str:
    """Everything below the chart: criteria, claims, tone, key points."""
    crits = "".join(criterion_html(c) for c in critique.criteria)
    return (f'<div class="pr-details" id="pr-details"><h3>Criterion by criterion</h3>{crits}'
            f"{key_points_html(critique)}{claims_html(critique)}{tone_html(critique)}</div>")


def note_checks_html(result: NoteCritique) -> str:
    """The note critique as a checklist."""
    head = "Your note passes every check." if result.passed else "Your note can be better:"
    rows = "".join(f'<div class="pr-kp {"good" if c.passed else "bad"}"><span class="pr-mark">'
                   f'{"✓" if c.passed else "✗"}</span><div><b>{e(NOTE_RULES.get(c.id, c.id))}</b>'
                   f"<div>{e(c.detail)}</div></div></div>" for c in result.checks)
    return (f'<div class="pr-card" id="pr-note-checks"><h3>{head}</h3>'
            f'<p class="pr-muted">{result.word_count} words</p>{rows}</div>')


def chat_messages(export: SessionExport) -> list[dict]:
    """A session as Chatbot messages; later rounds start with a marker line."""
    messages: list[dict] = []
    for i, rnd in enumerate(export.rounds):
        if i:
            messages.append({"role": "assistant", "content": f"— {rnd.round.title()} round begins —",
                             "metadata": {"title": f"{rnd.round.title()} round"}})
        messages += [{"role": "user" if t.role == "candidate" else "assistant", "content": t.text} for t in rnd.turns]
    return messages


def transcript_html(export: SessionExport) -> str:
    """A stored session's transcript as chat bubbles."""
    parts = [f'<div class="pr-transcript" id="pr-transcript"><p class="pr-muted">{e(export.company.name)} · '
             f"{e(export.role)} · {e(export.difficulty)} · {e(export.created_at[:16].replace('T', ' '))}</p>"]
    for rnd in export.rounds:
        parts.append(f"<h4>{e(rnd.round.title())} round</h4>")
        parts += [f'<div class="pr-bubble {t.role}"><b>{"You" if t.role == "candidate" else "Interviewer"}</b>'
                  f"<div>{e(t.text)}</div></div>" for t in rnd.turns]
    return "".join(parts) + "</div>"
