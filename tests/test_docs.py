"""Docs cannot rot: every code block in the README and docs/ is exercised by a test.

A block is checked here when its language can be checked by parsing (``json``, ``yaml``), is a
picture or sample output (``text``), or it is preceded by a marker naming the test that runs it:
``<!-- tested: tests/test_x.py ... -->``. This test holds each marker to account: the named
test file exists and reads the document the block is in.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).parents[1]
DOCUMENTS = sorted([ROOT / "README.md", ROOT / "sdk" / "README.md", *ROOT.glob("docs/*.md")])
FENCE = re.compile(r"^```([\w+-]*)\n(.*?)^```", re.S | re.M)
MARKER = re.compile(r"<!-- tested: (tests/[\w/]+\.py)[^>]*-->\s*$")


def _blocks(path: Path) -> list[tuple[int, str, str, str]]:
    """(line, language, code, the text just before the block) of each fenced block."""
    text = path.read_text()
    found = []
    for match in FENCE.finditer(text):
        before = text[: match.start()].rstrip("\n")
        line = before.count("\n") + 2
        found.append((line, match.group(1), match.group(2), before.rsplit("\n", 1)[-1]))
    return found


def _cases() -> list[tuple[Path, int, str, str, str]]:
    return [(path, *block) for path in DOCUMENTS for block in _blocks(path)]


@pytest.mark.parametrize(
    ("path", "line", "language", "code", "before"),
    _cases(),
    ids=[f"{p.relative_to(ROOT)}:{line}" for p, line, *_ in _cases()],
)
def test_every_block_is_exercised(
    path: Path, line: int, language: str, code: str, before: str
) -> None:
    where = f"{path.relative_to(ROOT)}:{line}"
    assert language, f"{where}: give the block a language (text for pictures and output)"
    if language == "text":
        return
    if language == "json":
        json.loads(code)
        return
    if language in ("yaml", "yml"):
        list(yaml.safe_load_all(code))
        return
    marker = MARKER.search(before)
    assert marker, (
        f"{where}: a {language} block needs a test that runs it, named in a marker on the line "
        "before: <!-- tested: tests/test_x.py ... -->"
    )
    test_file = ROOT / marker.group(1)
    assert test_file.exists(), f"{where}: {marker.group(1)} does not exist"
    source = test_file.read_text()
    assert path.name in source, f"{where}: {marker.group(1)} never reads {path.name}"
