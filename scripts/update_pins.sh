#!/usr/bin/env bash
# Re-resolve the pins in constraints.txt: a clean virtualenv, the newest versions the registries
# serve that pyproject.toml allows (runtime and test extras), frozen. Run it when you add or
# change a dependency, or to take upgrades on purpose; then run the whole test suite on the new
# pins before committing them (a known-bad pair gets an exclusion in pyproject.toml).
set -euo pipefail
cd "$(dirname "$0")/.."
venv=$(mktemp -d)
trap 'rm -rf "$venv"' EXIT
python3 -m venv "$venv"
"$venv/bin/pip" install -q --upgrade pip
"$venv/bin/pip" install -q -e '.[test]'
{
  echo "# Pins for 'pip install -e .[test] -c constraints.txt': versions known to work together."
  echo "# Made by scripts/update_pins.sh on $(date -u +%Y-%m-%d) with $("$venv/bin/python" -V)."
  "$venv/bin/pip" freeze --exclude-editable | grep -v -i '^-e '
} > constraints.txt
echo "constraints.txt: $(grep -vc '^#' constraints.txt) pins"
