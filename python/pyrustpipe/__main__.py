"""``python -m pyrustpipe``: the command line."""

from pyrustpipe.cli import main

raise SystemExit(main())
