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


def test_test_command_installs_from_the_pins_and_checks_them():
    test = readme_commands()[1]
    assert "-c constraints.txt" in test
    assert "python scripts/check_pins.py" in test
    assert (ROOT / "constraints.txt").is_file()


def test_pin_check_reports_drift():
    from check_pins import drift, read_pins

    pins = read_pins()
    assert pins["pytest"] and pins["whoosh-reloaded"] == "2.7.5"
    assert drift(pins) == []  # this run was installed from the pins
    problems = drift({**pins, "pytest": "0.0.1", "no-such-package": "1.0"})
    assert problems == [
        "no-such-package: pinned 1.0, not installed",
        f"pytest: pinned 0.0.1, installed {pins['pytest']}",
    ]
