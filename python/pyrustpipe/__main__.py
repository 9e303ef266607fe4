"""``python -m pyrustpipe``: the command line."""

from pyrustpipe.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
