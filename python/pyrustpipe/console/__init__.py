"""The quality console (``pyrustpipe serve``): pages and a JSON API over the quality ledger,
live validation jobs and the rule playground. Needs the ``console`` extra (docs/console.md);
importing this package alone loads nothing of it (the CLI stays light)."""
