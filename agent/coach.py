"""The coach: a prep brief before the interview and the thank-you note after it.

Phrasing lives in prompts/coach.yaml, rules in knowledge/notes/*.yaml; only the note draft asks the model.
"""
from __future__ import annotations

import re

from agent import guard, notes, prompts
from agent.errors import InputRejected, ModelOutputError
from agent.llm import ChatModel, Message
from agent.packs import Pack
from agent.prompts import PromptFile
from agent.schemas import DoubtPrep, NoteCheck, NoteCritique, PrepBrief
from agent.transcript import SessionExport

MAX_NOTE_CHARS = 5000
_TOKEN = re.compile(r"\$?\d[\d,.]*%?|[A-Za-z][A-Za-z'’-]+")
# a sentence ends at . ! ? before a capital, but not after "Dr." and the like
_SPLIT = re.compile(r"(?<=[.!?])(?<!\bDr\.)(?<!\bMr\.)(?<!\bMs\.)(?<!\bMrs\.)(?<!\bSt\.)(?<!\bJr\.)(?<!\bInc\.)"
                    r"(?<!\bvs\.)\s+(?=[A-Z0-9\"“'(])")
_FIRST_PERSON = re.compile(r"\b(I|we|my|our)\b", re.I)


# --- prep brief -------------------------------------------------------------------------------
def prep_brief(pack: Pack, role: str | None = None) -> PrepBrief:
    """What to prepare for this interviewer, built from the pack and the coaching notes (no model call)."""
    p, role, who = prompts.load("coach"), role or pack.role, pack.interviewer
    proper = _proper_words(pack)
    return PrepBrief(
        company_id=pack.id,
        interviewer=p.render("interviewer_line", name=who.name, title=who.title, company=pack.name, age=who.age),
        key_points=_key_points(p, pack, proper), doubts=_doubts(p, pack, role, proper),
        questions=_questions(p, pack, role, proper), common_ground=_common_ground(p, pack),
        closing_questions=[q["question"] for q in notes.load("notes/closing_questions")["questions"]])


def _key_points(p: PromptFile, pack: Pack, proper: set[str]) -> list[str]:
    """Mission, success measure and must-have from "Hiring needs", as prompts for the candidate's evidence."""
    cfg, found = p.data["key_points"], {}
    for sentence in _sentences(pack.section("Hiring needs")):
        for pat in cfg["patterns"]:
            if m := re.search(pat["regex"], sentence, re.I):
                found.setdefault(pat["kind"], []).append(p.render(
                    "key_point", lead=pat["lead"], what=m.group("what").rstrip(" ."),
                    evidence=cfg["evidence"][pat["kind"]]))
                break
    firsts = [found[k].pop(0) for k in cfg["order"] if found.get(k)]  # one of each kind first
    rest = [point for k in cfg["order"] for point in found.get(k, [])]
    fallback = [p.render("key_point_priority", fact=_clause(s, proper))
                for s in _sentences(pack.section("Priorities"))]
    return (firsts + rest + fallback)[:3]


def _doubts(p: PromptFile, pack: Pack, role: str, proper: set[str]) -> list[DoubtPrep]:
    """Every doubt from the notes, the likeliest for this interviewer and role first."""
    cfg = p.data["doubt_order"]
    text = " ".join([role, pack.section("Hiring needs"), pack.section("Culture")]).lower()
    younger = pack.interviewer.age < cfg["younger_than"]

    def score(doubt: dict) -> int:
        bonus = cfg["younger"].get(doubt["id"], 0) if younger else 0
        return bonus + sum(cue in text for cue in cfg["cues"].get(doubt["id"], []))

    top = _sentences(pack.section("Priorities"))[:1]
    priority = _clause(top[0], proper) if top else ""
    ranked = sorted(notes.load("notes/doubts")["doubts"], key=lambda d: -score(d))  # stable: ties keep file order
    return [DoubtPrep(doubt=d["how_it_sounds"], counter=p.render(
        "doubt_counter", counter=d["counter"], priority=priority if "priority" in d["counter"] else ""))
        for d in ranked]


def _questions(p: PromptFile, pack: Pack, role: str, proper: set[str]) -> list[str]:
    """3-4 questions quoting the pack's top priorities and the news closest to this role."""
    pri, news = _sentences(pack.section("Priorities")), _sentences(pack.section("News"))
    more = [s for s in pri[1:] if re.search(r"\d", s)] + [s for s in pri[1:] if not re.search(r"\d", s)]
    focus = _content(" ".join([role, pack.section("Hiring needs"), pack.section("Priorities")]))
    # closest to the role first; among equals the latest (packs list news in date order)
    ranked = [s for _, s in sorted(enumerate(news), key=lambda x: (-len(_content(x[1]) & focus), -x[0]))]
    plan = ([("question_priority", s) for s in pri[:1]] + [("question_priority_more", s) for s in more[:1]]
            + list(zip(("question_news", "question_news_more"), ranked)))
    plan += [("question_priority_more", s) for s in more[1:max(1, 4 - len(plan))]]  # thin packs: more priorities
    return [p.render(part, fact=_clause(s, proper), role=role) for part, s in plan[:4]]


def _common_ground(p: PromptFile, pack: Pack) -> list[str]:
    """School, former employer and hobbies from the interviewer's public background."""
    cfg, bg, company = p.data["common_ground"], pack.interviewer.background, pack.name
    schools = [m.group(0) for m in re.finditer(cfg["school"], bg)]
    employers = [m.group(1) for m in re.finditer(cfg["employer"], bg)
                 if not any(m.group(1) in s for s in schools) and m.group(1).split()[0] not in company]
    # "...degree and is a Buckeyes fan": split before a third-person verb, then keep the personal interests
    fragments = [f.strip(" .") for c in bg.split(";") for f in re.split(r"\band\b(?= [a-z]+s )", c) if f.strip(" .")]
    hobbies = [h for h in (f[0].lower() + f[1:] for f in fragments) if h.startswith(tuple(cfg["hobby_starts"]))]
    out = [p.render("common_school", school=s, company=company) for s in schools[:1]]
    out += [p.render("common_employer", employer=e, company=company) for e in employers[-1:]]  # the latest
    out += [p.render("common_hobby", hobby=" ".join(cfg["second_person"].get(w.lower(), w) for w in h.split()))
            for h in hobbies]
    out += [p.render("common_other", fact=f) for f in fragments if len(out) < 2]
    return out[:3]


# --- follow-up draft --------------------------------------------------------------------------
def draft_follow_up(model: ChatModel, export: SessionExport, pack: Pack) -> str:
    """A short thank-you note from what was said in this session; the model words it, the checks vet it."""
    p = prompts.load("coach")
    cfg, limit = p.data["follow_up"], notes.load("notes/follow_up")["limits"]["max_words"]
    tag, who = cfg["tag"], pack.interviewer
    points = [{"label": cfg["labels"][kind], "text": _as_data(text, tag)}
              for kind, text in _session_points(export, pack)]
    messages: list[Message] = [
        {"role": "system", "content": p.render("note_system", max_words=cfg["target_words"], tag=tag)},
        {"role": "user", "content": p.render("note_request", first_name=who.name.split()[0], interviewer=who.name,
                                             company=pack.name, role=export.role, points=points, tag=tag)}]
    rules = {r["id"]: r["rule"] for r in notes.load("notes/follow_up")["rules"]}
    for _ in range(2):  # one repair round, then fail loudly rather than hand back a weak note
        note = _ask(model, messages, cfg, limit)
        failed = [c for c in check_note(note, export).checks if not c.passed]
        if not failed:
            return note
        messages += [{"role": "assistant", "content": note},  # the rules, never candidate text, outside the block
                     {"role": "user", "content": p.render("note_revise", problems=[rules[c.id] for c in failed],
                                                          max_words=cfg["target_words"], tag=tag)}]
    problems = "; ".join(f"{c.id}: {c.detail}" for c in failed)
    raise ModelOutputError(f"The model's follow-up draft failed the note checks twice ({problems}). "
                           "Write the note yourself and check it, or use a larger model.")


def _session_points(export: SessionExport, pack: Pack) -> list[tuple[str, str]]:
    """(kind, text) of the 1-2 most specific things in the session: a result, a priority touched, a question."""
    said = [s for _, _, text in export.candidate_turns() for s in _sentences(guard.clean_candidate_text(text))]
    if not said:
        raise InputRejected(f"Session {export.id} has no candidate lines yet; say something in the interview "
                            "before drafting a follow-up note.")
    terms = _content(pack.full_text())
    heard = _content(" ".join(t.text for r in export.rounds for t in r.turns)) - _content(pack.name)

    def weight(s: str) -> tuple[int, int]:
        return 2 * len(_numbers(s)) + len(_content(s) & terms), len(s)

    results = [s for s in said if _numbers(s) and _FIRST_PERSON.search(s)]
    touched = [s for s in _sentences(pack.section("Priorities")) if len(_content(s) & heard) >= 2]
    asked = [s for s in said if s.endswith("?") and _content(s) & terms]
    picks = ([("result", max(results, key=weight))] if results else []) \
        + ([("priority", max(touched, key=lambda s: len(_content(s) & heard)))] if touched else []) \
        + ([("question", max(asked, key=weight))] if asked else [])
    picks = picks or [("said", max(said, key=weight))]
    limit = prompts.load("coach").data["follow_up"]["point_words"]
    return [(kind, _first_words(text, limit)) for kind, text in picks[:2]]


def _as_data(text: str, tag: str) -> str:
    """Candidate text for the data block: no control tokens, no way to close the block early."""
    return re.sub(rf"</?\s*{re.escape(tag)}\s*>", " ", guard.clean_candidate_text(text), flags=re.I).strip()


def _ask(model: ChatModel, messages: list[Message], cfg: dict, limit: int) -> str:
    """One model call at temperature 0; unusable output raises, a long note is trimmed at a sentence end."""
    raw = model.complete(messages, max_tokens=cfg["max_tokens"], temperature=0.0).text
    note = re.sub(r"^```\w*\s*|\s*```$", "", (raw or "").strip())
    note = re.sub(r"^\s*\[[^\]\n]{1,40}\]\s*$", "", note, flags=re.M).strip()  # "[Your Name]" placeholders
    words = note.split()
    letters = sum(ch.isalpha() for ch in note) / max(1, len(note))
    problem = ("it was empty" if not words else
               f"only {len(words)} words" if len(words) < cfg["min_words"] else
               "it is not text" if letters < 0.6 or len({w.lower() for w in words}) < len(words) / 4 else
               f"it stepped out of role ({', '.join(guard.out_of_character(note))})" if guard.out_of_character(note)
               else "it thanks no one" if not re.search(cfg["must_say"], note, re.I) else "")
    if problem:
        raise ModelOutputError(f"The model's follow-up draft is unusable: {problem}. Write the note yourself, "
                               "or set PITCHROOM_LOCAL_MODEL / OPENAI_BASE_URL to a stronger model.")
    return note if len(words) <= limit else _trim_note(note, limit)


def _trim_note(note: str, limit: int) -> str:
    """Fit `limit` words by dropping whole sentences from the end, filler before numbers, thanks and value."""
    cfg = prompts.load("coach").data
    head, tail = _split_signoff(note, cfg["note_checks"])
    parts = re.split(r"(\n\s*)", head)  # text blocks at even indexes, the line breaks between them at odd ones
    blocks = [[s for s in re.split(r"(?<=[.!?])\s+", b.strip()) if s] for b in parts[::2]]
    slots = [(b, i) for b, sents in enumerate(blocks) for i in range(len(sents))]
    words = {s: len(blocks[s[0]][s[1]].split()) for s in slots}
    keep_last = cfg["note_checks"]["value"] + [cfg["follow_up"]["must_say"]]
    vital = [s for s in slots[1:] if _numbers(blocks[s[0]][s[1]]) or _matches(keep_last, blocks[s[0]][s[1]])]
    budget, dropped = limit - len(tail.split()), set()
    for slot in [s for s in reversed(slots[1:]) if s not in vital] + vital[::-1]:  # slots[0]: the greeting
        if sum(n for s, n in words.items() if s not in dropped) <= budget:
            break
        dropped.add(slot)
    text = ""
    for b, sents in enumerate(blocks):
        kept = " ".join(s for i, s in enumerate(sents) if (b, i) not in dropped)
        text += (parts[2 * b - 1] if text else "") + kept if kept else ""
    text = text.strip() if len(text.split()) <= budget else " ".join(text.split()[:budget])
    return f"{text}\n\n{tail}" if tail else text


# --- note checks ------------------------------------------------------------------------------
def check_note(note: str, export: SessionExport | None = None) -> NoteCritique:
    """Check a thank-you note against knowledge/notes/follow_up.yaml: prompt, specific, value, brief, not pushy."""
    if not isinstance(note, str) or not note.strip():
        raise InputRejected("The note is empty; paste the thank-you note you plan to send.")
    if len(note) > MAX_NOTE_CHARS:
        raise InputRejected(f"The note is {len(note)} characters; the limit is {MAX_NOTE_CHARS}. "
                            "A thank-you note should be a few short paragraphs.")
    p, limits = prompts.load("coach"), notes.load("notes/follow_up")["limits"]
    cfg, words = p.data["note_checks"], len(note.split())
    late, value, pushy = (_matches(cfg[k], note) for k in ("late", "value", "pushy"))
    if note.count("!") > cfg["max_exclamations"]:
        pushy.append(f"{note.count('!')} exclamation marks")
    hours, days, most = limits["send_within_hours"], limits["check_in_after_business_days"], limits["max_words"]
    checks = [
        _check(p, "prompt", not late, "check_prompt_ok", "check_prompt_late", found=", ".join(late), hours=hours),
        _check_specific(p, note, export),
        _check(p, "restates_value", bool(value), "check_value_ok", "check_value_missing", found=", ".join(value)),
        _check(p, "brief", words <= most, "check_brief_ok", "check_brief_long", words=words, limit=most),
        _check(p, "not_pushy", not pushy, "check_pushy_ok", "check_pushy_found", found=", ".join(pushy), days=days)]
    return NoteCritique(passed=all(c.passed for c in checks), checks=checks, word_count=words)


def _check(p: PromptFile, rule: str, passed: bool, ok: str, bad: str, **variables: object) -> NoteCheck:
    """One rule's result, its detail rendered from the pass or the fail template (both declare the same variables)."""
    return NoteCheck(id=rule, passed=passed, detail=p.render(ok if passed else bad, **variables))


def _check_specific(p: PromptFile, note: str, export: SessionExport | None) -> NoteCheck:
    """Shares a distinctive word or number with the session, or (no session) names a specific thing."""
    body = _note_body(note, p.data["note_checks"])
    if export is None:
        found = _numbers(body) + _inner_names(body)
        suggestion = ""
    else:
        lines = [t.text for r in export.rounds for t in r.turns]
        generic = _content(f"{export.company.name} {export.role}")
        found = sorted(set(_numbers(body)) & {n for line in lines for n in _numbers(line)})
        found += sorted((_content(body) & _content(" ".join(lines))) - generic)
        said = [s for _, _, t in export.candidate_turns() for s in _sentences(t)]
        suggestion = _first_words(next((s for s in said if _numbers(s)), max(said, key=len, default="")), 12)
    return _check(p, "specific", bool(found), "check_specific_ok", "check_specific_missing",
                  found=", ".join(found[:5]), suggestion=suggestion)


def _note_body(note: str, cfg: dict) -> str:
    """The note without its greeting and sign-off, whose names prove nothing."""
    return re.sub(cfg["greeting"], " ", _split_signoff(note, cfg)[0], count=1, flags=re.I)


def _split_signoff(note: str, cfg: dict) -> tuple[str, str]:
    """(body, sign-off and what follows it); the sign-off is a line like "Best regards," after the first."""
    lines = note.strip().splitlines()
    cut = next((i for i, line in enumerate(lines) if i and re.match(cfg["signoff"], line, re.I)), len(lines))
    return "\n".join(lines[:cut]), "\n".join(lines[cut:]).strip()


def _inner_names(text: str) -> list[str]:
    """Capitalised words that do not start a sentence (names, products, places), except 'I'."""
    found = re.finditer(r"(?<=[\w,;:)])[ \t]+([A-Z][\w’'-]+)", text)
    return [m.group(1) for m in found if m.group(1) not in ("I", "I'm")]


# --- text helpers -------------------------------------------------------------------------------
def _sentences(text: str) -> list[str]:
    """Sentences of a pack section or a spoken line (packs have one fact per line); bullets dropped."""
    lines = (re.sub(r"^\s*(?:[-*+]|\d+[.)])\s+", "", line).strip() for line in text.splitlines())
    return [s for line in lines for s in _SPLIT.split(line) if len(s.split()) > 1]


def _proper_words(pack: Pack) -> set[str]:
    """Capitalised words seen mid-sentence in the pack: these keep their capital at a clause start."""
    return {m.group(1) for s in _sentences(pack.full_text()) for m in re.finditer(r"\s([A-Z][\w-]*)", s)}


def _clause(sentence: str, proper: set[str]) -> str:
    """A pack sentence ready to sit inside a question: no final stop, common first word lower-cased."""
    text = sentence.strip().rstrip(".")
    first = text.split()[0] if text else ""
    keep = (first.isupper() and len(first) > 1) or "'" in first or "’" in first or first in proper
    return text if keep or not text else text[0].lower() + text[1:]


def _content(text: str) -> set[str]:
    """Distinctive lower-cased words (4+ letters, not stopwords), plural and possessive folded."""
    stop = set(prompts.load("coach").data["note_checks"]["stopwords"])
    words = {re.sub(r"(['’]s|s)$", "", w.lower()) if len(w) > 4 else w.lower()
             for w in _TOKEN.findall(text) if w[0].isalpha() and len(w) >= 4}
    return {w for w in words if w not in stop and len(w) >= 4}


def _numbers(text: str) -> list[str]:
    """Numbers as written, without currency signs, thousands commas or a trailing stop."""
    return [n.strip("$.,%").replace(",", "") for n in re.findall(r"\$?\d[\d,.]*%?", text) if n.strip("$.,%")]


def _matches(patterns: list[str], text: str) -> list[str]:
    return [m.group(0) for pat in patterns if (m := re.search(pat, text, re.I))]


def _first_words(text: str, n: int) -> str:
    words = text.split()
    return " ".join(words[:n]) + (" ..." if len(words) > n else "")
