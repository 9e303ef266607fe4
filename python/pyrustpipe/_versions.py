"""The wire formats' version numbers (docs/spec.md, docs/report.md), kept apart from
:mod:`pyrustpipe.spec`: its types cost ~11M instructions to build, and only type checkers need them.
"""

SPEC_VERSION = 1
REPORT_VERSION = 1
