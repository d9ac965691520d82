"""The README is the user's entry point: keep it true to the code."""

from pathlib import Path

from sasscrawl.schemas import ARTICLE_FIELDS

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text("utf-8")


def test_every_record_field_is_documented():
    documented = {line.split("`")[1] for line in README.splitlines() if line.startswith("| `")}
    assert set(ARTICLE_FIELDS) <= documented, set(ARTICLE_FIELDS) - documented


def test_ci_runs_the_readme_test_command():
    command = (ROOT / ".ci" / "run").read_text("utf-8").strip().splitlines()[-1]
    assert "pytest" in command
    assert command in README
