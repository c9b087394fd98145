"""Keep the interface catalogues in step with the code: extract, update, compile.

    python scripts/translations.py          # extract messages.pot, update every .po, compile .mo

Strings are marked in the templates and in Python with ``_()``/``ngettext()``/``_l()``. The
English interface is the source text; translators edit
``searchapp/web/translations/<lang>/LC_MESSAGES/messages.po`` (``tests/test_i18n.py`` fails
while a string is untranslated or a ``.mo`` is older than its ``.po``).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TRANSLATIONS = ROOT / "searchapp" / "web" / "translations"
POT = TRANSLATIONS / "messages.pot"


def main() -> None:
    pybabel = [sys.executable, "-m", "babel.messages.frontend"]
    subprocess.run(
        [*pybabel, "extract", "-F", "babel.cfg", "-k", "_l", "-k", "_n:1,2", "--no-location",
         "--sort-output", "--omit-header", "-o", str(POT), "."],
        cwd=ROOT, check=True,
    )  # fmt: skip
    subprocess.run(
        [*pybabel, "update", "-i", str(POT), "-d", str(TRANSLATIONS), "--no-fuzzy-matching",
         "--ignore-obsolete"],
        cwd=ROOT, check=True,
    )  # fmt: skip
    subprocess.run([*pybabel, "compile", "-d", str(TRANSLATIONS)], cwd=ROOT, check=True)


if __name__ == "__main__":
    main()
