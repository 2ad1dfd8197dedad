"""Chart data for the web UI: pandas frames for gr.BarPlot / gr.LinePlot and a progress grid."""
from __future__ import annotations

import pandas as pd

from agent.schemas import Critique
from ui.web_render import e, status_of

STATUSES = ("Passed", "Failed", "Not applicable")
COLORS = {"Passed": "#16a34a", "Failed": "#dc2626", "Not applicable": "#9ca3af"}


def criteria_frame(critique: Critique | None) -> pd.DataFrame:
    """One row per result (passed / failed / not applicable): how many criteria, and which."""
    rows = []
    for status in STATUSES:
        names = [c.title or c.id for c in critique.criteria if status_of(c) == status] if critique else []
        rows.append({"Result": status, "Criteria": len(names), "Which": ", ".join(names) or "none"})
    return pd.DataFrame(rows, columns=["Result", "Criteria", "Which"])


def progress_frame(history: list[tuple[str, Critique]]) -> pd.DataFrame:
    """Score over time: the overall score and each criterion's pass rate so far (0-100) per session."""
    rows, passed, judged = [], {}, {}
    for n, (when, critique) in enumerate(sorted(history, key=lambda h: h[0]), 1):
        at = f"{n:02d} · {when[5:16].replace('T', ' ')}"  # ordered labels: the chart sorts them as text
        rows.append({"Session": at, "Score": critique.score, "Series": "Overall score"})
        for c in critique.criteria:
            if c.passed is None:
                continue
            judged[c.id] = judged.get(c.id, 0) + 1
            passed[c.id] = passed.get(c.id, 0) + int(c.passed)
            rows.append({"Session": at, "Score": round(100 * passed[c.id] / judged[c.id]), "Series": c.title or c.id})
    return pd.DataFrame(rows, columns=["Session", "Score", "Series"])


def progress_grid_html(history: list[tuple[str, Critique]]) -> str:
    """Criterion x session grid of ✓ / ✗ / – cells, oldest session first."""
    if not history:
        return '<p class="pr-muted">No critiqued sessions yet. Finish an interview to start your progress view.</p>'
    ordered = sorted(history, key=lambda h: h[0])
    titles: dict[str, str] = {}
    for _, c in ordered:
        titles.update({r.id: r.title or r.id for r in c.criteria})
    head = "".join(f"<th>{e(w[5:16].replace('T', ' '))}<br>{c.company_id}<br><b>{c.score}</b></th>" for w, c in ordered)
    body = ""
    for cid, title in titles.items():
        cells = ""
        for _, c in ordered:
            res = next((r for r in c.criteria if r.id == cid), None)
            st = status_of(res) if res else "Not applicable"
            cls, mark = {"Passed": ("good", "✓"), "Failed": ("bad", "✗")}.get(st, ("na", "–"))
            cells += f'<td class="{cls}" title="{st}">{mark}</td>'
        body += f"<tr><th class='pr-rowhead'>{e(title)}</th>{cells}</tr>"
    return f'<div class="pr-grid-wrap"><table class="pr-grid" id="pr-grid"><tr><th></th>{head}</tr>{body}</table></div>'
