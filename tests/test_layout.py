"""The package's layering: the read side never loads the writer."""

from __future__ import annotations

import subprocess
import sys


def test_searching_and_the_web_app_do_not_import_the_index_writer():
    code = (
        "import sys, searchapp.searching, searchapp.web; "
        "print(sorted(m for m in sys.modules if m.startswith('searchapp.')))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert "'searchapp.store'" in loaded
    assert "'searchapp.indexing'" not in loaded
