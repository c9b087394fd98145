"""The README's two commands are the ones that work, and CI runs the test command."""

from __future__ import annotations

from tests.conftest import ROOT


def readme_commands() -> list[str]:
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines[:12] if line.startswith("    ")]


def test_readme_starts_with_run_and_test_commands():
    run, test = readme_commands()[:2]
    assert run == "pip install -e . && searchapp serve"
    assert test.startswith("pip install -e '.[test]'") and "pytest" in test
    assert "apt-get install -y chromium" in test


def test_ci_runs_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert readme_commands()[1] in ci.splitlines()
