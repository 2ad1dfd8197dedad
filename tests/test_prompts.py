from pathlib import Path

import pytest

from agent import prompts
from agent.errors import PromptError


def write(tmp_path: Path, text: str) -> Path:
    (tmp_path / "p.yaml").write_text(text)
    return tmp_path


def test_render_needs_exactly_the_declared_variables(tmp_path):
    d = write(tmp_path, 'version: "2"\ntemplates:\n  t:\n    variables: [a, b]\n    text: "{{ a }}-{{ b }}"\n')
    p = prompts.load("p", d)
    assert p.render("t", a=1, b=2) == "1-2"
    assert p.tag == "p@2"
    with pytest.raises(PromptError, match=r"missing variables \['b'\]"):
        p.render("t", a=1)
    with pytest.raises(PromptError, match=r"extra variables \['c'\]"):
        p.render("t", a=1, b=2, c=3)


def test_undeclared_variable_fails_on_load(tmp_path):
    d = write(tmp_path, 'version: "1"\ntemplates:\n  t:\n    variables: [a]\n    text: "{{ a }} {{ oops }}"\n')
    with pytest.raises(PromptError, match=r"p.yaml: template `t` uses undeclared variables \['oops'\]"):
        prompts.load("p", d)


def test_missing_version_and_bad_syntax_name_the_file(tmp_path):
    with pytest.raises(PromptError, match="missing `version`"):
        prompts.load("p", write(tmp_path, "templates: {}\n"))
    bad = 'version: "1"\ntemplates:\n  t:\n    variables: []\n    text: "{% if %}"\n'
    with pytest.raises(PromptError, match="p.yaml: template `t` line 1"):
        prompts.load("p", write(tmp_path, bad))


def test_shipped_prompts_load():
    for name in ("interviewer", "critic", "simulate"):
        assert prompts.load(name).version
