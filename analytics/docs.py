"""Keeps the README's contract and KPI sections identical to the code that defines them.

`python -m analytics docs --write README.md` regenerates the marked sections; a test fails when they differ.
"""

from __future__ import annotations

import re
from pathlib import Path

from analytics.schema import contract_markdown
from analytics.scorecard import definitions_markdown

SECTIONS = {"contract": contract_markdown, "kpis": definitions_markdown}


def _pattern(name: str) -> re.Pattern:
    return re.compile(rf"(<!-- {name}:start -->\n)(.*?)(<!-- {name}:end -->)", re.S)


def render(text: str) -> str:
    for name, make in SECTIONS.items():
        text = _pattern(name).sub(lambda m, make=make: m.group(1) + make().rstrip() + "\n" + m.group(3), text)
    return text


def stale_sections(readme: Path) -> list[str]:
    text = readme.read_text(encoding="utf-8")
    out = []
    for name, make in SECTIONS.items():
        m = _pattern(name).search(text)
        if not m or m.group(2).rstrip() != make().rstrip():
            out.append(name)
    return out


def write(readme: Path) -> None:
    readme.write_text(render(readme.read_text(encoding="utf-8")), encoding="utf-8")
