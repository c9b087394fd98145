"""What the tests, ``bench.py``, ``stress.py`` and the other scripts share to drive searchapp
from outside: a free port, a server process started and always stopped (``server``), the
``/proc`` readings of a process tree (``procs``) and percentiles (``stats``).

Scripts run as ``python scripts/x.py`` find this package beside them; the tests find it through
``pythonpath = ["scripts"]`` in ``pyproject.toml``. Nothing here imports ``searchapp``: servers
are driven through the CLI and HTTP only.
"""
