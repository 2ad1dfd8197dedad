"""Keeps candidate text as data and interviewer replies in character.

The same checks score `persona_adherence` in evaluation runs, so what the product blocks
and what the evals count are one definition.
"""
from __future__ import annotations

import re

# Chat-template control tokens would let a message forge a system turn on a local model.
_CONTROL = re.compile(r"<\|[^|>]{0,40}\|>|</?s>|\[/?INST\]|<<SYS>>|<</SYS>>", re.I)
_INJECTION = re.compile(
    r"ignore (all |any |the |your )*(previous|prior|above|earlier)|disregard (all |your )?(previous |prior )?"
    r"(instructions|rules)|(print|show|reveal|repeat|tell me) (me )?(your|the) (system )?(prompt|instructions|"
    r"notes|rules)|you are now|new instructions|^\s*(system|assistant)\s*:|\bsystem (message|prompt)\b|"
    r"act as (an? )?(ai|assistant|chatbot)|pretend (to be|you are)|grade me|give me (a )?(score of )?100|"
    r"jailbreak|developer mode|\bas an ai\b|language model", re.I | re.M)
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
