"""The README states the contract and the KPI definitions exactly as the code does."""

from pathlib import Path

from analytics import docs, kpis

README = Path(__file__).resolve().parents[2] / "README.md"


def test_readme_sections_match_code():
    assert docs.stale_sections(README) == [], "run: python -m analytics docs --write README.md"


def test_readme_starts_with_the_two_commands():
    lines = [ln for ln in README.read_text().splitlines() if ln.strip()]
    assert lines[1] == "```bash"
    assert lines[2].startswith("make run") and lines[3].startswith("make test")


def test_every_kpi_definition_is_in_the_readme():
    text = README.read_text()
    for spec in kpis.SPECS.values():
        assert spec.definition in text
