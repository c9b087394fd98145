"""The shipped systemd units and environment file: valid, unprivileged, restartable,
reloadable; every setting they use and every setting that exists is documented."""

from __future__ import annotations

import configparser
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

DEPLOY = ROOT / "deploy"
UNITS = ("searchapp.service", "searchapp-index.service", "searchapp-index.timer")


def unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str  # systemd keys are case-sensitive
    parser.read(DEPLOY / name, encoding="utf-8")
    return parser


def test_server_unit_is_unprivileged_restarting_and_reloads_with_sighup():
    service = unit("searchapp.service")["Service"]
    assert service["User"] not in ("", "root") and service["Group"] not in ("", "root")
    assert service["Restart"] == "on-failure"
    assert service["ExecReload"] == "/bin/kill -HUP $MAINPID"
    assert service["ExecStart"].split()[1:3] == ["serve", "--host"]
    assert service["StateDirectory"] == "searchapp"  # the writable index folder
    assert service["ReadWritePaths"] == "/var/lib/searchapp"
    assert service["ProtectSystem"] == "strict"
    assert service["EnvironmentFile"] == "/etc/searchapp/searchapp.env"


def test_index_timer_runs_the_index_service_nightly():
    service = unit("searchapp-index.service")["Service"]
    assert service["Type"] == "oneshot" and service["User"] == "searchapp"
    assert service["ExecStart"].split()[1] == "index"
    timer = unit("searchapp-index.timer")["Timer"]
    assert re.fullmatch(r"\*-\*-\* \d\d:\d\d:\d\d", timer["OnCalendar"])
    assert timer["Persistent"] == "true"


def test_units_pass_systemd_analyze_verify(tmp_path):
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed")
    searchapp = Path(sys.executable).parent / "searchapp"
    for name in UNITS:
        text = (DEPLOY / name).read_text("utf-8")
        (tmp_path / name).write_text(
            text.replace("/opt/searchapp/venv/bin/searchapp", str(searchapp)), "utf-8"
        )
    result = subprocess.run(
        [analyze, "verify", *(str(tmp_path / name) for name in UNITS)],
        capture_output=True,
        text=True,
        env={"SYSTEMD_LOG_LEVEL": "warning", "PATH": "/usr/bin:/bin"},
    )
    problems = [
        line
        for line in (result.stdout + result.stderr).splitlines()
        if "searchapp" in line  # only our units' messages, not the host's own
    ]
    assert problems == [], problems


def settings_in_config() -> set[str]:
    """The environment variables of the settings table, and those config.py reads itself
    (``SEARCHAPP_CONFIG``)."""
    from searchapp import config

    source = (ROOT / "searchapp" / "config.py").read_text("utf-8")
    named = {s.env for s in config.SETTINGS if s.env}
    return named | set(re.findall(r"\$?(SEARCHAPP_[A-Z_]+)", source))


def test_environment_file_uses_only_real_settings():
    names = set(
        re.findall(r"^#?(SEARCHAPP_[A-Z_]+)=", (DEPLOY / "searchapp.env").read_text(), re.M)
    )
    assert names and names <= settings_in_config(), names - settings_in_config()


def test_every_setting_is_documented_in_the_readme():
    readme = (ROOT / "README.md").read_text("utf-8")
    missing = sorted(name for name in settings_in_config() if name not in readme)
    assert missing == [], f"settings not in README.md: {missing}"
