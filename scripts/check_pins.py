"""Fail loudly when the installed packages drift from constraints.txt.

CI installs with ``-c constraints.txt``; a package installed by hand, or a cached older one,
would make a run pass or fail for reasons the pins do not show. Exit 1 listing every drift.
"""

from __future__ import annotations

import re
import sys
from importlib import metadata
from pathlib import Path

PINS = Path(__file__).resolve().parent.parent / "constraints.txt"


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def read_pins(path: Path = PINS) -> dict[str, str]:
    pins = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, _, version = line.partition("==")
            pins[canonical(name)] = version.strip()
    return pins


def drift(pins: dict[str, str]) -> list[str]:
    installed = {canonical(d.metadata["Name"]): d.version for d in metadata.distributions()}
    problems = []
    for name, wanted in sorted(pins.items()):
        have = installed.get(name)
        if have is None:
            problems.append(f"{name}: pinned {wanted}, not installed")
        elif have != wanted:
            problems.append(f"{name}: pinned {wanted}, installed {have}")
    return problems


def main() -> int:
    problems = drift(read_pins())
    if problems:
        message = f"installed packages differ from {PINS.name}:"
        print(message, *problems, sep="\n  ", file=sys.stderr)
        print("install with: pip install -e '.[test]' -c constraints.txt", file=sys.stderr)
        return 1
    print(f"{PINS.name}: all {len(read_pins())} pins installed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
