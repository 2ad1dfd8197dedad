"""Keeps candidate text as data and interviewer replies in character.

The same checks score `persona_adherence` in evaluation runs, so what the product blocks
and what the evals count are one definition.
"""
from __future__ import annotations

import re

# Chat-template control tokens would let a message forge a system turn on a local model.
_CONTROL = re.compile(r"<\|[^|>]{0,40}\|>|</?s>|\[/?INST\]|<<SYS>>|<</SYS>>", re.I)
_INJECTION = re.compile("|".join([
    r"(ignore|disregard|forget|override) (all |any |the |your |my )*(previous |prior |above |earlier |hidden )?(instructions|rules|prompt|guidelines|rubric)",
    r"ignore (all |any |the |your )*(previous|prior|above|earlier)",
    r"(repeat|paste|print|show|reveal|share|read|output|tell me|give me|list) [^.?!]{0,40}(instructions|system prompt|prompt|notes|rules|guidelines)",
    r"word for word", r"hidden (rules|instructions|notes|prompt)", r"what (notes|instructions|rules) (were|have) you (been )?given",
    r"switch roles", r"you'?re the candidate", r"from now on,? you", r"you are (now|no longer)", r"act as (an? )?\w+",
    r"pretend (to be|you are|you're)", r"play the (role|part) of", r"^\s*(system|admin|developer|assistant)\s*[:\]]",
    r"\[(admin|system|developer)[^\]]*\]", r"\boverride\b", r"new instructions", r"developer mode", r"jailbreak",
    r"^\s*#{2,}\s*(new )?instructions", r"^\s*(interviewer|candidate|hiring manager|user|human)\s*:",
    r"\b(grade|score|mark|rate) (this|me|my|the candidate|every)", r"^\s*(critic|evaluator|grader|judge|scorer)\s*:",
    r"whoever (scores|grades|reads|evaluates)", r"all criteria", r"(note|message) to (the )?(ai|model|assistant|llm|critic)",
    r"decode (this|the following)", r"[A-Za-z0-9+/]{28,}={0,2}", r"write (me )?(a |some )?(python|code|script|poem|essay|program)",
    r"forget (about )?the interview", r"who else (applied|is interviewing)", r"other candidates'? (names|answers|interviews)",
    r"(olvida|ignora)[^.]{0,20}instrucciones", r"(oublie|ignore)[^.]{0,20}instructions", r"vergiss[^.]{0,20}anweisungen",
    r"\bas an ai\b", r"language model", r"you got the job", r"you'?re hired", r"offer (me|the candidate) the job",
]), re.I | re.M)
_RESEARCH_NOISE = re.compile(r"<!--.*?-->|\[//\]: #[^\n]*|<\|[^|>]{0,40}\|>", re.S)
_OUT_OF_CHARACTER = re.compile(
    r"\bas an ai\b|\bai (language )?model\b|\blanguage model\b|\bi'?m (just )?an? (ai|assistant|chatbot)\b|"
    r"\bi am (just )?an? (ai|assistant|chatbot)\b|\bopenai\b|\bsystem prompt\b|\bprivate notes\b|"
    r"\brelevant facts:|\bmy instructions\b|\bi (was|have been) (instructed|programmed)|\bdirective\b|"
    r"\bas a (helpful )?assistant\b", re.I)
# Small models sometimes go on to write the candidate's next line: cut there.
_ROLE_LINE = re.compile(r"\n\s*(candidate|you|me|interviewee|user|human)\s*:", re.I)
_SPEAKER_PREFIX = re.compile(r"^\s*\**\s*([A-Z][\w.]*( [A-Z][\w.]*){0,3}|interviewer|hiring manager)\s*\**\s*:\s*",
                             re.I)


def clean_candidate_text(text: str) -> str:
    """Strip chat-template control tokens so a message cannot forge a turn."""
    return _CONTROL.sub(" ", text).strip()


def clean_fact(text: str) -> str:
    """Research text as pure data: drop hidden comments, control tokens and sentences that instruct a model."""
    text = _CONTROL.sub(" ", _RESEARCH_NOISE.sub(" ", text))  # [INST], <<SYS>>, </s> too, not only <|...|>
    kept = [s for s in re.split(r"(?<=[.!?])\s+", text) if not looks_like_injection(s)]
    return " ".join(kept).strip()


def looks_like_injection(text: str) -> bool:
    """True when the text tries to instruct the model rather than talk to the interviewer."""
    return bool(_INJECTION.search(text))


def out_of_character(text: str) -> list[str]:
    """The out-of-character phrases in an interviewer reply (empty when it stays in role)."""
    return sorted({m.group(0).lower() for m in _OUT_OF_CHARACTER.finditer(text)})


def tidy_reply(text: str, speaker: str) -> str:
    """Drop a leading speaker label and anything after a line written for the other side."""
    text = _ROLE_LINE.split(text, maxsplit=1)[0]
    prefix = _SPEAKER_PREFIX.match(text)
    if prefix and (prefix.group(1).lower() in (speaker.lower(), speaker.split()[0].lower(),
                                               "interviewer", "hiring manager")):
        text = text[prefix.end():]
    return text.strip()


def has_role_line(text: str) -> bool:
    """True when the model started writing a line for the other side."""
    return bool(_ROLE_LINE.search(text))


def cut_out_of_character(text: str) -> str:
    """Keep the sentences before the first out-of-character one."""
    sentences = re.split(r"(?<=[.!?])\s+", text)
    kept = []
    for sentence in sentences:
        if out_of_character(sentence):
            break
        kept.append(sentence)
    return " ".join(kept).strip()
