"""Theme and CSS of the web UI (local fonts only: the page must work without network)."""
from __future__ import annotations

import gradio as gr

SYSTEM_FONT = ("ui-sans-serif", "system-ui", "-apple-system", "Segoe UI", "Roboto", "Helvetica", "Arial", "sans-serif")


def theme() -> gr.themes.Base:
    """A calm indigo theme on system fonts (no Google Fonts request)."""
    return gr.themes.Soft(primary_hue="indigo", secondary_hue="slate", neutral_hue="slate", font=SYSTEM_FONT,
                          font_mono=("ui-monospace", "Consolas", "monospace"))


CSS = """
.gradio-container {max-width: 1180px !important; margin: 0 auto !important;}
.pr-top {display:flex; justify-content:space-between; align-items:center; gap:16px; flex-wrap:wrap;
  padding:18px 22px; border-radius:14px; color:#fff;
  background:linear-gradient(120deg,#312e81 0%,#4f46e5 55%,#7c3aed 100%);}
.pr-top h1, .pr-top p, .pr-steps span {color:#fff !important;}
.pr-top h1 {margin:0; font-size:1.6rem;}
.pr-top p {margin:2px 0 0; opacity:.92;}
.pr-steps {display:flex; gap:6px; flex-wrap:wrap; margin-top:8px; font-size:.8rem;}
.pr-steps span {background:rgba(255,255,255,.16); padding:2px 10px; border-radius:99px;}
.pr-status {display:flex; align-items:center; gap:8px; flex-wrap:wrap; padding:8px 14px; border-radius:10px;
  font-weight:600; background:var(--block-background-fill); border:1px solid var(--border-color-primary);}
.pr-status span {font-weight:400; opacity:.8;}
.pr-status.ready {color:#15803d;} .pr-status.failed {color:#b91c1c;} .pr-status.starting {color:#b45309;}
.pr-spin {width:14px; height:14px; border:2px solid currentColor; border-right-color:transparent;
  border-radius:50%; display:inline-block; animation:pr-spin 1s linear infinite;}
@keyframes pr-spin {to {transform:rotate(360deg);}}
.pr-card {background:var(--block-background-fill); border:1px solid var(--border-color-primary);
  border-radius:12px; padding:14px 18px; margin:8px 0;}
.pr-card h3, .pr-card h4, .pr-brief h3, .pr-details h3 {margin:.2em 0 .5em;}
.pr-profile {display:flex; gap:18px; align-items:flex-start;}
.pr-avatar {flex:0 0 72px; height:72px; border-radius:50%; display:flex; align-items:center; justify-content:center;
  font-size:1.7rem; font-weight:700; color:#fff; background:linear-gradient(135deg,#6366f1,#a855f7);}
.pr-name {font-size:1.35rem; font-weight:700;}
.pr-title {opacity:.85; margin-bottom:6px;}
.pr-role {display:inline-block; background:rgba(99,102,241,.12); padding:3px 10px; border-radius:8px; margin:4px 0;}
.pr-bg {line-height:1.5; margin:.6em 0 0;}
.pr-muted {opacity:.7; font-size:.92em;}
.pr-strip {display:flex; gap:10px; align-items:center; flex-wrap:wrap; padding:8px 4px;}
.pr-chip {background:#4f46e5; color:#fff; border-radius:99px; padding:2px 12px; font-size:.85em; font-weight:600;}
.pr-chip-soft {background:rgba(99,102,241,.15); color:inherit;}
.pr-points {display:grid; gap:8px;}
.pr-point {display:flex; gap:12px; align-items:flex-start; padding:10px 12px; border-radius:10px;
  background:rgba(99,102,241,.07); margin:6px 0; line-height:1.45;}
.pr-num {flex:0 0 28px; height:28px; border-radius:50%; background:#4f46e5; color:#fff; font-weight:700;
  display:flex; align-items:center; justify-content:center;}
.pr-doubts {display:grid; grid-template-columns:repeat(auto-fit,minmax(300px,1fr)); gap:10px;}
.pr-doubt {border-radius:10px; border:1px solid var(--border-color-primary); overflow:hidden;}
.pr-doubt-q {background:rgba(234,88,12,.1); padding:10px 12px; font-style:italic;}
.pr-doubt-a {padding:10px 12px; line-height:1.45;}
.pr-cols {display:grid; grid-template-columns:repeat(auto-fit,minmax(260px,1fr)); gap:10px; margin-top:10px;}
.pr-cols ul {padding-left:1.1em; margin:0;} .pr-cols li {margin:.35em 0;}
.pr-verdict {display:flex; gap:20px; align-items:center; padding:16px 20px; border-radius:14px;
  border:1px solid var(--border-color-primary);}
.pr-verdict.good {background:rgba(22,163,74,.08);} .pr-verdict.bad {background:rgba(220,38,38,.07);}
.pr-verdict-label {font-size:1.4rem; font-weight:800; margin-bottom:4px;}
.pr-verdict.good .pr-verdict-label {color:#15803d;} .pr-verdict.bad .pr-verdict-label {color:#b91c1c;}
.pr-ring {flex:0 0 96px; height:96px; border-radius:50%; display:flex; align-items:center; justify-content:center;
  background:conic-gradient(#4f46e5 calc(var(--pct)*1%), rgba(148,163,184,.3) 0);}
.pr-ring span {width:72px; height:72px; border-radius:50%; background:var(--background-fill-primary);
  display:flex; align-items:center; justify-content:center; font-size:1.6rem; font-weight:800;}
.pr-crit {border:1px solid var(--border-color-primary); border-left-width:6px; border-radius:10px;
  padding:8px 14px; margin:8px 0; background:var(--block-background-fill);}
.pr-crit.good {border-left-color:#16a34a;} .pr-crit.bad {border-left-color:#dc2626;}
.pr-crit.na {border-left-color:#9ca3af;}
.pr-crit summary {cursor:pointer; display:flex; gap:10px; align-items:center;}
.pr-mark {font-weight:800; width:1.2em; text-align:center;}
.good > .pr-mark, .good .pr-mark {color:#16a34a;} .bad > .pr-mark, .bad .pr-mark {color:#dc2626;}
.pr-tag {margin-left:auto; font-size:.8em; opacity:.75;}
.pr-advice {background:rgba(99,102,241,.08); padding:8px 10px; border-radius:8px;}
.pr-quote {margin:6px 0; padding:6px 12px; border-left:3px solid #a5b4fc; font-style:italic;}
.pr-quote span {display:block; font-style:normal; font-size:.8em; opacity:.6;}
.pr-table {width:100%; border-collapse:collapse;} .pr-table td, .pr-table th {padding:8px; vertical-align:top;
  border-bottom:1px solid var(--border-color-primary); text-align:left;}
.pr-badge {border-radius:99px; padding:2px 10px; font-size:.8em; font-weight:700; white-space:nowrap;}
.pr-badge.good {background:#dcfce7; color:#166534;} .pr-badge.meh {background:#fef3c7; color:#92400e;}
.pr-badge.bad {background:#fee2e2; color:#991b1b;}
.pr-tones {display:grid; grid-template-columns:repeat(auto-fit,minmax(220px,1fr)); gap:10px;}
.pr-tone {border-radius:10px; padding:10px 12px; border:1px solid var(--border-color-primary);}
.pr-tone span {margin-left:8px; font-weight:700;}
.pr-tone.good span {color:#15803d;} .pr-tone.meh span {color:#b45309;} .pr-tone.bad span {color:#b91c1c;}
.pr-kp {display:flex; gap:10px; align-items:flex-start; margin:8px 0;}
.pr-transcript {max-height:460px; overflow-y:auto; padding-right:6px;}
.pr-transcript h4 {margin:12px 0 4px;}
.pr-bubble {max-width:80%; padding:8px 12px; border-radius:12px; margin:6px 0; line-height:1.45;}
.pr-bubble.candidate {margin-left:auto; background:rgba(99,102,241,.14);}
.pr-bubble.interviewer {background:var(--block-background-fill); border:1px solid var(--border-color-primary);}
.pr-grid-wrap {overflow-x:auto;}
.pr-grid {border-collapse:collapse; font-size:.9em;} .pr-grid th, .pr-grid td {padding:6px 8px; text-align:center;
  border:1px solid var(--border-color-primary);}
.pr-grid .pr-rowhead {text-align:left; font-weight:600;}
.pr-grid td.good {background:#dcfce7; color:#166534;} .pr-grid td.bad {background:#fee2e2; color:#991b1b;}
.pr-grid td.na {opacity:.5;}
#pr-send {min-width:110px;}
.pr-danger {background:#dc2626 !important; border-color:#dc2626 !important; color:#fff !important;}
.pr-danger:hover {background:#b91c1c !important;}
"""
