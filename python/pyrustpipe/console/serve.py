"""``pyrustpipe serve``: the console's command line — arguments, then uvicorn on the app."""

from __future__ import annotations

import argparse
import sys

from pyrustpipe._typing import TYPE_CHECKING

if TYPE_CHECKING:
    from typing import Any


def add_serve_command(commands: Any) -> None:
    parser = commands.add_parser(
        "serve",
        help="serve the quality console (web pages and JSON API) over a ledger",
        description="Serve the quality console over the ledger at ROOT: datasets' health, "
        "runs, the quarantine browser, validation jobs. Needs pyrustpipe[console].",
    )
    parser.add_argument("--ledger", required=True, metavar="ROOT", help="the ledger's root")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1)")
    parser.add_argument("--port", type=int, default=8765, help="port (8765)")
    parser.add_argument(
        "--auth",
        required=True,
        metavar="FILE",
        help="users file: users: [{name, role: viewer|operator, token_sha256}]",
    )
    parser.add_argument(
        "--data",
        action="append",
        default=[],
        metavar="DIR",
        help="a directory or s3://bucket/prefix jobs may read sources from (repeatable); "
        "without one, no jobs",
    )
    parser.add_argument(
        "--workdir",
        metavar="DIR",
        help="the console's job outputs and run records (default ROOT/_console)",
    )
    parser.add_argument("--max-jobs", type=int, default=2, metavar="N", help="jobs at once (2)")
    parser.add_argument(
        "--outputs",
        metavar="s3://BUCKET/PREFIX",
        help="jobs write their outputs under this S3 prefix (default: the workdir)",
    )
    parser.add_argument("--endpoint-url", metavar="URL", help="S3 endpoint (S3-compatible stores)")
    parser.add_argument("--region", metavar="R", help="S3 region")
    parser.set_defaults(handler=_cmd_serve)


def _cmd_serve(args: argparse.Namespace) -> int:
    # Imported here, not at the top: every `pyrustpipe` command loads this module.
    from pathlib import Path

    try:
        import uvicorn

        from pyrustpipe.console.app import create_app
        from pyrustpipe.console.config import ConsoleConfig
    except ImportError as exc:
        raise ImportError(
            f"the console needs its extra: pip install 'pyrustpipe[console]' ({exc})"
        ) from None
    config = ConsoleConfig(
        ledger=args.ledger if args.ledger.startswith("s3://") else Path(args.ledger),
        auth_file=Path(args.auth),
        workdir=Path(args.workdir) if args.workdir else None,
        data_roots=[p if p.startswith("s3://") else Path(p) for p in args.data],
        max_jobs=max(1, args.max_jobs),
        outputs=args.outputs,
        # Credentials come from the environment / AWS config, never from the command line.
        storage_options={
            k: v for k, v in (("endpoint_url", args.endpoint_url), ("region", args.region)) if v
        },
    )
    app = create_app(config)
    sys.stderr.write(f"pyrustpipe console on http://{args.host}:{args.port}/ (Ctrl-C stops)\n")
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning", access_log=False)
    return 0
