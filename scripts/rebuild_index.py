#!/usr/bin/env python3
"""Rebuild (or update) the index from a script: the same as ``searchapp index``.

python scripts/rebuild_index.py [--source DIR] [--index DIR] [--rebuild]
"""

from searchapp.cli import main

if __name__ == "__main__":
    main(["index", *__import__("sys").argv[1:]], prog_name="rebuild_index.py")
