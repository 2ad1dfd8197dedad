from pathlib import Path

import pytest

from agent.errors import NotFound, PackError
from agent.packs import PackLibrary, parse_pack

ROOT = Path(__file__).resolve().parent.parent
GOOD = "---\nname: Acme\nrole: Buyer\ninterviewer:\n  name: Ann\n  title: VP\n  age: 33\n  background: Ran.\n---\n"


def test_builtin_packs_are_rich(tmp_path):
    lib = PackLibrary(ROOT / "knowledge/companies", tmp_path)
    assert len(lib.ids()) >= 3
    for pid in lib.ids():
        pack = lib.get(pid)
        assert pack.id == pid and pack.interviewer.age < 45
        assert len(pack.sections) >= 6 and pack.section("news") and pack.section("priorit")


@pytest.mark.parametrize("body, message", [
    ("no front matter\n# A\nb\n", "no YAML front matter"),
    ("---\nname: [unclosed\n---\n# A\nb\n", "broken YAML front matter"),
    ("---\nname: Acme\nrole: X\n---\n# A\nb\n", "field `interviewer`"),
    (GOOD.replace("age: 33", "age: old"), "field `interviewer.age`"),
    (GOOD, "no `# Heading` sections"),
    (GOOD.replace("name: Acme\n", "name: Acme\nsecret: 1\n") + "# A\nb\n", "field `secret`"),
])
def test_broken_packs_name_file_and_problem(tmp_path, body, message):
    path = tmp_path / "acme.md"
    path.write_text(body)
    with pytest.raises(PackError) as err:
        parse_pack(path)
    assert str(path) in str(err.value) and message in str(err.value)


@pytest.mark.parametrize("data, message", [
    (b"\x00\x01binary", "looks binary"), (b"\xff\xfe\xfa bad", "not UTF-8"), (b"x" * 600_000, "the limit is")])
def test_unreadable_packs(tmp_path, data, message):
    path = tmp_path / "acme.md"
    path.write_bytes(data)
    with pytest.raises(PackError, match=message):
        parse_pack(path)


def test_unknown_id_lists_known_ones(tmp_path):
    lib = PackLibrary(ROOT / "knowledge/companies", tmp_path)
    with pytest.raises(NotFound, match="northwind-robotics"):
        lib.get("nope")
