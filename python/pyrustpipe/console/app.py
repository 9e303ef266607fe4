"""The console's web application: every page and JSON endpoint, the access rules in front of
them (401 without a valid token or session, 403 for the wrong role, a cross-site or CSRF-less
write), over the ledger view, the run records, the quarantine browser and the job manager."""

import asyncio
import contextlib
import functools
import io
import json
import re
import secrets
import threading
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, urlsplit

from fastapi import Depends, FastAPI, Request
from fastapi.responses import (
    HTMLResponse,
    JSONResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException

from pyrustpipe.console import charts, playground
from pyrustpipe.console.auth import (
    SESSION_COOKIE,
    SESSION_TTL_S,
    Authenticator,
    Role,
    User,
    load_users,
)
from pyrustpipe.console.config import ConsoleConfig
from pyrustpipe.console.jobs import TERMINAL, JobManager, JobRequestError
from pyrustpipe.console.ledger_view import LedgerView, dataset_detail
from pyrustpipe.console.quarantine import (
    Masker,
    QuarantineError,
    confined,
    confined_s3,
    read_page,
)
from pyrustpipe.console.runs import RunStore, output_format, spec_view

_HERE = Path(__file__).parent
_SECURITY_HEADERS = {
    # Everything the pages use ships in the package: no inline script, no third party.
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; "
    "script-src 'self'; connect-src 'self'; frame-ancestors 'none'; form-action 'self'; "
    "base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}


MAX_BODY_BYTES = 2 << 20


class _NeedLogin(Exception):
    pass


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/") or request.url.path == "/openapi.json"


def create_app(config: ConsoleConfig) -> FastAPI:
    """The application for one ledger; ``pyrustpipe serve`` runs it with uvicorn."""
    auth = Authenticator(load_users(config.auth_file))
    view = LedgerView(config.ledger, config.storage_options)
    runs = RunStore(config.runs_root)
    jobs = JobManager(config, runs)
    masker = Masker(secrets.token_bytes(32))
    templates = Jinja2Templates(directory=str(_HERE / "templates"))
    templates.env.globals["sparkline"] = charts.sparkline
    templates.env.filters["pct"] = lambda v: "–" if v is None else f"{v:.2%}"
    templates.env.filters["num"] = lambda v: "–" if v is None else f"{v:,}"

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # The first page should not pay for imports, template compiling and reading the
        # newest entries: the server accepts connections once they are done.
        await asyncio.to_thread(warm_up)
        # Then every entry, in the background: dataset pages and run links find them cached.
        threading.Thread(target=warm_all, name="console-warm-all", daemon=True).start()
        yield

    def warm_up() -> None:
        import pyarrow.parquet  # noqa: F401

        for name in ("overview.html", "dataset.html", "run.html", "jobs.html", "job.html"):
            templates.get_template(name)
        try:
            view.overview(config.overview_last)
        except Exception:  # a broken entry is reported by the page that reads it
            pass

    def warm_all() -> None:
        try:
            view.warm()
        except Exception:  # a listing error is reported by the page that lists
            pass

    app = FastAPI(
        lifespan=lifespan,
        title="pyrustpipe console",
        summary="The quality ledger, live validation jobs and the rule playground.",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.state.config = config
    app.state.auth = auth
    app.state.view = view
    app.state.jobs = jobs
    app.state.runs = runs
    app.mount("/static", StaticFiles(directory=str(_HERE / "static")), name="static")

    @app.middleware("http")
    async def security_headers(request: Request, call_next: Any) -> Response:
        # A spec is at most 1 MiB; no request needs more than twice that.
        length = request.headers.get("content-length", "0")
        if not length.isdigit() or int(length) > MAX_BODY_BYTES:
            return JSONResponse({"detail": "request body too large"}, status_code=413)
        response: Response = await call_next(request)
        for key, value in _SECURITY_HEADERS.items():
            response.headers.setdefault(key, value)
        return response

    # -- access ----------------------------------------------------------------------------

    def authenticate(request: Request) -> User:
        header = request.headers.get("authorization")
        if header is not None:
            scheme, _, token = header.partition(" ")
            user = auth.user_for_token(token.strip()) if scheme.lower() == "bearer" else None
            if user is None:
                raise _NeedLogin()
            request.state.session = None
            return user
        session_id = request.cookies.get(SESSION_COOKIE)
        session = auth.session(session_id) if session_id else None
        if session is None:
            raise _NeedLogin()
        request.state.session = session
        return session.user

    def viewer(request: Request) -> User:
        return authenticate(request)

    # FastAPI evaluates these when a route is defined: no `from __future__ import annotations`
    # in this module, since they are local to the app.
    Viewer = Annotated[User, Depends(viewer)]

    def _same_origin(request: Request) -> bool:
        origin = request.headers.get("origin")
        if request.headers.get("sec-fetch-site") == "cross-site":
            return False
        if origin is None:
            referer = request.headers.get("referer")
            if referer is None:
                return True
            origin = "{0.scheme}://{0.netloc}".format(urlsplit(referer))
        return origin == f"{request.url.scheme}://{request.headers.get('host', '')}"

    async def check_write(request: Request, user: User, role: Role) -> None:
        """A state-changing request: same origin, the session's CSRF token (a browser session;
        a bearer token is never sent by a browser on its own), then the role."""
        if not _same_origin(request):
            raise HTTPException(403, "cross-site request refused")
        session = request.state.session
        if session is not None:
            sent = request.headers.get("x-csrf-token")
            if sent is None and request.headers.get("content-type", "").startswith(
                ("application/x-www-form-urlencoded", "multipart/form-data")
            ):
                form = await request.form()
                value = form.get("csrf_token")
                sent = value if isinstance(value, str) else None
            if sent is None or not secrets.compare_digest(sent, session.csrf):
                raise HTTPException(403, "missing or wrong CSRF token")
        if not user.may(role):
            raise HTTPException(403, f"this needs the {role} role")

    async def operator(request: Request, user: Viewer) -> User:
        await check_write(request, user, "operator")
        return user

    async def any_writer(request: Request, user: Viewer) -> User:
        await check_write(request, user, "viewer")
        return user

    Operator = Annotated[User, Depends(operator)]
    Writer = Annotated[User, Depends(any_writer)]

    @app.exception_handler(_NeedLogin)
    async def need_login(request: Request, exc: _NeedLogin) -> Response:
        if _wants_json(request):
            return JSONResponse(
                {"detail": "authentication required: a Bearer token or a session"},
                status_code=401,
                headers={"WWW-Authenticate": "Bearer"},
            )
        return templates.TemplateResponse(
            request,
            "login.html",
            {"next": request.url.path, "error": None, "user": None},
            status_code=401,
        )

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        if _wants_json(request):
            return JSONResponse({"detail": exc.detail}, status_code=exc.status_code)
        return templates.TemplateResponse(
            request,
            "error.html",
            {"status": exc.status_code, "detail": exc.detail, **page_context(request)},
            status_code=exc.status_code,
        )

    def page_context(request: Request) -> dict[str, Any]:
        session = getattr(request.state, "session", None)
        user = session.user if session is not None else None
        return {"user": user, "csrf": session.csrf if session is not None else ""}

    # -- login -----------------------------------------------------------------------------

    @app.get("/login", response_class=HTMLResponse, include_in_schema=False)
    async def login_page(request: Request, next: str = "/") -> Response:
        return templates.TemplateResponse(
            request, "login.html", {"next": _local(next), "error": None, "user": None}
        )

    @app.post("/login", include_in_schema=False)
    async def login(request: Request) -> Response:
        if not _same_origin(request):
            raise HTTPException(403, "cross-site request refused")
        client = request.client.host if request.client else "unknown"
        if not auth.login_allowed(client):
            raise HTTPException(429, "too many failed logins: wait a minute")
        form = await request.form()
        token = form.get("token")
        target = _local(str(form.get("next") or "/"))
        user = auth.user_for_token(token) if isinstance(token, str) and token else None
        if user is None:
            auth.login_failed(client)
            return templates.TemplateResponse(
                request,
                "login.html",
                {"next": target, "error": "That token is not valid.", "user": None},
                status_code=401,
            )
        session_id, _ = auth.open_session(user)
        response = RedirectResponse(target, status_code=303)
        response.set_cookie(
            SESSION_COOKIE,
            session_id,
            max_age=int(SESSION_TTL_S),
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
            path="/",
        )
        return response

    @app.post("/logout", include_in_schema=False)
    async def logout(request: Request, user: Writer) -> Response:
        session_id = request.cookies.get(SESSION_COOKIE)
        if session_id:
            auth.close_session(session_id)
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response

    # -- models ----------------------------------------------------------------------------

    def run_model(run_id: str) -> dict[str, Any]:
        entry = view.find_run(run_id)
        record = runs.load(run_id)
        if entry is None and record is None:
            raise HTTPException(404, f"no run {run_id!r} in the ledger or the console's jobs")
        report = record["report"] if record else None
        history = []
        for rule in (entry or {}).get("rules", []):
            if rule["scope"] == "history":
                history.append({**rule, "explanation": _explain(rule, report)})
        outputs = record["outputs"] if record else {}
        if not outputs.get("quarantine"):
            # A run the console did not start: the outputs its ledger entry records (v3).
            recorded = (entry or {}).get("outputs") or {}
            outputs = {k: v for k, v in recorded.items() if v} or outputs
        return {
            "run_id": run_id,
            "entry": entry,
            "report": report,
            "history": history,
            "outputs": outputs,
            "quarantine_browsable": bool(outputs.get("quarantine")),
            "spec": record["spec"] if record else None,
        }

    def quarantine_source(
        run_id: str,
    ) -> tuple[str, dict[str, Any], list[str], list[Path], list[str]]:
        """Where the run's quarantine lies, the spec view that masks it, the rules that
        failed, and the local roots and S3 prefixes it must lie in. The location comes from the
        console's run record or, for other runs, exactly as the run's ledger entry records it:
        never from the request."""
        record = runs.load(run_id)
        if record is not None and record["outputs"].get("quarantine"):
            roots = [config.outputs_root]
            if config.local_ledger is not None:
                roots.append(config.local_ledger)
            failed = [
                item["name"]
                for item in (record["report"] or {}).get("rules", [])
                if item.get("failed") and item.get("scope") != "history"
            ]
            prefixes = [config.outputs] if config.outputs else []
            return record["outputs"]["quarantine"], record["spec"], failed, roots, prefixes
        entry = view.find_run(run_id)
        location = ((entry or {}).get("outputs") or {}).get("quarantine")
        if entry is None or not isinstance(location, str) or not location:
            raise HTTPException(
                404,
                "this run's quarantine is not known: the console did not start the run and its "
                "ledger entry records no quarantine (none was written, or the entry predates "
                "ledger version 3)",
            )
        spec = _stored_spec_view(str(config.ledger), entry["rules_hash"], config.storage_options)
        if spec is None:
            # Which columns are sensitive is unknown, so every value might be: show none.
            raise HTTPException(
                403,
                "the ledger's spec store (_specs/) holds no spec for this run's rules "
                f"({entry['rules_hash']}), so the console cannot tell which columns are "
                "sensitive: it does not show this quarantine's values",
            )
        failed = [
            r["name"] for r in entry.get("rules", []) if r["failed"] and r["scope"] != "history"
        ]
        # The places the console reads anyway: its outputs, the ledger, the data roots.
        roots = [config.outputs_root]
        prefixes = [config.outputs] if config.outputs else []
        for place in [config.ledger, *config.data_roots]:
            if isinstance(place, Path):
                roots.append(place)
            else:
                prefixes.append(place)
        return location, spec, failed, roots, prefixes

    def quarantine_page(run_id: str, cursor: int, limit: int, rule: str | None) -> dict[str, Any]:
        location, spec, rules, roots, prefixes = quarantine_source(run_id)
        if not 1 <= limit <= 500:
            raise HTTPException(422, "limit must be between 1 and 500")
        try:
            source: Any
            if "://" in location:
                uri = confined_s3(location, prefixes)
                source = functools.partial(_open_s3, uri, config.storage_options)
            else:
                source = confined(location, roots)
            page = read_page(
                source,
                fmt=output_format(location),
                cursor=cursor,
                limit=limit,
                rule=rule or None,
                columns=spec["columns"],
                header=spec["header"],
                delimiter=spec["delimiter"],
                quote=spec["quote"],
                sensitive=frozenset(spec["sensitive"]),
                mask=masker,
            )
        except QuarantineError as exc:
            status = 403 if "outside" in str(exc) else 422
            raise HTTPException(status, str(exc)) from None
        return {
            "run_id": run_id,
            "columns": page.columns,
            "rows": page.rows,
            "cursor": page.cursor,
            "next_cursor": page.next_cursor,
            "scanned_bytes": page.scanned_bytes,
            "rule": page.rule,
            "rules": rules,
            "sensitive": spec["sensitive"],
        }

    def get_job(job_id: str) -> Any:
        job = jobs.get(job_id)
        if job is None:
            raise HTTPException(404, f"no job {job_id!r}")
        return job

    # -- JSON API --------------------------------------------------------------------------

    @app.get("/openapi.json", include_in_schema=False)
    async def openapi(user: Viewer) -> JSONResponse:
        return JSONResponse(app.openapi())

    @app.get("/api/me", tags=["access"])
    async def api_me(user: Viewer) -> dict[str, str]:
        """The caller's name and role."""
        return {"name": user.name, "role": user.role}

    @app.get("/api/datasets", tags=["ledger"])
    def api_datasets(user: Viewer) -> dict[str, Any]:
        """Every dataset in the ledger with its latest health, what needs attention first."""
        return {"datasets": view.overview(config.overview_last)}

    @app.get("/api/datasets/{dataset}", tags=["ledger"])
    def api_dataset(dataset: str, user: Viewer) -> dict[str, Any]:
        """A dataset's runs over time, each rule's failures, history checks and schema changes."""
        detail = dataset_detail(view, dataset)
        if detail is None:
            raise HTTPException(404, f"no dataset {dataset!r} in the ledger")
        return detail

    @app.get("/api/runs/{run_id}", tags=["runs"])
    def api_run(run_id: str, user: Viewer) -> dict[str, Any]:
        """A run: its ledger entry, its report (runs the console started), history verdicts."""
        return run_model(run_id)

    @app.get("/api/runs/{run_id}/quarantine", tags=["runs"])
    def api_quarantine(
        run_id: str,
        user: Viewer,
        cursor: int = 0,
        limit: int = 50,
        rule: str | None = None,
    ) -> dict[str, Any]:
        """A page of the run's quarantined rows from byte ``cursor``; ``rule`` filters."""
        return quarantine_page(run_id, cursor, limit, rule)

    @app.get("/api/jobs", tags=["jobs"])
    def api_jobs(user: Viewer) -> dict[str, Any]:
        """Every job of this console process, newest first."""
        return {"jobs": [job.snapshot() for job in jobs.list()]}

    @app.post("/api/jobs", status_code=201, tags=["jobs"])
    async def api_start_job(request: Request, user: Operator) -> dict[str, Any]:
        """Start a validation: ``sources`` (paths inside the data roots), ``rules`` (spec as YAML
        / JSON text or an object), ``ledger`` (bool), ``partition``, ``logical_date``."""
        try:
            body = await request.json()
        except ValueError:
            raise HTTPException(400, "the body must be a JSON object") from None
        if not isinstance(body, dict):
            raise HTTPException(400, "the body must be a JSON object")
        return dict(start_job(user, body).snapshot())

    def start_job(user: User, body: dict[str, Any]) -> Any:
        from pyrustpipe.exceptions import SchemaError

        try:
            return jobs.submit(user.name, body)
        except (JobRequestError, SchemaError) as exc:
            raise HTTPException(400, str(exc)) from None

    @app.get("/api/jobs/{job_id}", tags=["jobs"])
    def api_job(job_id: str, user: Viewer) -> dict[str, Any]:
        """One job with its live counters."""
        return dict(get_job(job_id).snapshot())

    @app.post("/api/jobs/{job_id}/cancel", tags=["jobs"])
    def api_cancel(job_id: str, user: Operator) -> dict[str, Any]:
        """Cancel a queued or running job (nothing is committed)."""
        job = get_job(job_id)
        jobs.cancel(job)
        return dict(job.snapshot())

    @app.get("/api/jobs/{job_id}/events", tags=["jobs"])
    async def api_job_events(request: Request, job_id: str, user: Viewer) -> StreamingResponse:
        """Server-sent events: the job's snapshot whenever it changes, until it ends."""
        job = get_job(job_id)

        async def stream() -> Any:
            last = None
            while True:
                snapshot = job.snapshot()
                text = json.dumps(snapshot)
                if text != last:
                    yield f"data: {text}\n\n"
                    last = text
                if snapshot["status"] in TERMINAL:
                    yield "event: end\ndata: {}\n\n"
                    return
                if await request.is_disconnected():
                    return
                await asyncio.sleep(0.2)

        return StreamingResponse(stream(), media_type="text/event-stream")

    # -- pages -----------------------------------------------------------------------------

    def render(request: Request, name: str, context: dict[str, Any]) -> Response:
        return templates.TemplateResponse(request, name, {**page_context(request), **context})

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def overview_page(request: Request, user: Viewer) -> Response:
        return render(
            request,
            "overview.html",
            {"datasets": view.overview(config.overview_last), "last": config.overview_last},
        )

    @app.get("/datasets/{dataset}", response_class=HTMLResponse, include_in_schema=False)
    def dataset_page(request: Request, dataset: str, user: Viewer) -> Response:
        detail = dataset_detail(view, dataset)
        if detail is None:
            raise HTTPException(404, f"no dataset {dataset!r} in the ledger")
        return render(request, "dataset.html", {"d": detail, "charts": _dataset_charts(detail)})

    @app.get("/runs/{run_id}", response_class=HTMLResponse, include_in_schema=False)
    def run_page(
        request: Request,
        run_id: str,
        user: Viewer,
        cursor: int = 0,
        rule: str | None = None,
    ) -> Response:
        model = run_model(run_id)
        page = None
        problem = None
        if model["quarantine_browsable"]:
            try:
                page = quarantine_page(run_id, cursor, 25, rule)
            except HTTPException as exc:
                problem = exc.detail
        return render(request, "run.html", {"r": model, "q": page, "q_problem": problem})

    @app.get("/jobs", response_class=HTMLResponse, include_in_schema=False)
    def jobs_page(request: Request, user: Viewer) -> Response:
        return render(
            request,
            "jobs.html",
            {
                "jobs": [j.snapshot() for j in jobs.list()],
                "roots": [str(p) for p in config.data_roots],
                "error": None,
                "form": {},
            },
        )

    @app.post("/jobs", include_in_schema=False)
    async def jobs_form(request: Request, user: Operator) -> Response:
        form = await request.form()
        body = {
            "sources": str(form.get("sources") or ""),
            "rules": str(form.get("rules") or ""),
            "partition": str(form.get("partition") or ""),
            "logical_date": str(form.get("logical_date") or ""),
            "ledger": form.get("ledger") == "on",
            "valid_output": form.get("valid_output") == "on",
        }
        try:
            job = start_job(user, body)
        except HTTPException as exc:
            response = render(
                request,
                "jobs.html",
                {
                    "jobs": [j.snapshot() for j in jobs.list()],
                    "roots": [str(p) for p in config.data_roots],
                    "error": exc.detail,
                    "form": body,
                },
            )
            response.status_code = exc.status_code
            return response
        return RedirectResponse(f"/jobs/{quote(job.id)}", status_code=303)

    @app.get("/jobs/{job_id}", response_class=HTMLResponse, include_in_schema=False)
    def job_page(request: Request, job_id: str, user: Viewer) -> Response:
        return render(request, "job.html", {"job": get_job(job_id).snapshot()})

    @app.post("/jobs/{job_id}/cancel", include_in_schema=False)
    def job_cancel_form(job_id: str, user: Operator) -> Response:
        jobs.cancel(get_job(job_id))
        return RedirectResponse(f"/jobs/{quote(job_id)}", status_code=303)

    # -- rule playground (pyrustpipe.backtest) ----------------------------------------------

    def playground_call(action: str, body: dict[str, Any]) -> dict[str, Any]:
        from pyrustpipe.exceptions import PyRustPipeError

        try:
            if action == "check":
                return playground.check(body)
            if action == "dry-run":
                return playground.dry_run(config, body)
            return playground.run_backtest(config, view, body)
        except JobRequestError as exc:
            raise HTTPException(400, str(exc)) from None
        except (PyRustPipeError, OSError, ValueError) as exc:
            raise HTTPException(422, " ".join(str(exc).split())) from None

    async def json_body(request: Request) -> dict[str, Any]:
        try:
            body = await request.json()
        except ValueError:
            raise HTTPException(400, "the body must be a JSON object") from None
        if not isinstance(body, dict):
            raise HTTPException(400, "the body must be a JSON object")
        return body

    @app.get("/api/playground/spec", tags=["playground"])
    def api_playground_spec(dataset: str, user: Viewer) -> dict[str, Any]:
        """The spec of the dataset's newest run, from the ledger's spec store (JSON text)."""
        try:
            return playground.spec_that_ran(config, view, dataset)
        except JobRequestError as exc:
            raise HTTPException(404, str(exc)) from None

    @app.post("/api/playground/check", tags=["playground"])
    async def api_playground_check(request: Request, user: Writer) -> dict[str, Any]:
        """``{"spec": text}`` → ``{"problems": [{line, column, message}]}`` (never runs Python)."""
        return playground_call("check", await json_body(request))

    @app.post("/api/playground/dry-run", tags=["playground"])
    async def api_playground_dry_run(request: Request, user: Operator) -> dict[str, Any]:
        """``{"spec", "source", "rows"}``: the report of the spec on the first rows of source."""
        body = await json_body(request)
        return await asyncio.to_thread(playground_call, "dry-run", body)

    @app.post("/api/playground/backtest", tags=["playground"])
    async def api_playground_backtest(request: Request, user: Operator) -> dict[str, Any]:
        """``{"spec", "dataset", "last", "examples"}``: per partition, rows that would newly
        fail / newly pass against the rules that ran, with example rows."""
        body = await json_body(request)
        return await asyncio.to_thread(playground_call, "backtest", body)

    def playground_render(
        request: Request,
        form: dict[str, Any],
        result: dict[str, Any] | None,
        error: str | None,
        status: int = 200,
    ) -> Response:
        chart = None
        backtest = (result or {}).get("backtest")
        if backtest:
            compared = [p for p in backtest["partitions"] if p["status"] == "compared"]
            if compared:
                chart = charts.series_chart(
                    "Rows newly failing per partition",
                    [p["logical_date"] for p in compared],
                    [p["newly_failing"] for p in compared],
                    bad=[i for i, p in enumerate(compared) if p["newly_failing"]],
                )
        response = render(
            request,
            "playground.html",
            {
                "form": form,
                "result": result,
                "error": error,
                "datasets": view.datasets(),
                "roots": [str(p) for p in config.data_roots],
                "chart": chart,
            },
        )
        response.status_code = status
        return response

    @app.get("/playground", response_class=HTMLResponse, include_in_schema=False)
    def playground_page(request: Request, user: Viewer, dataset: str | None = None) -> Response:
        form: dict[str, Any] = {"dataset": dataset or "", "last": 30, "rows": 10_000}
        error = None
        if dataset:
            try:
                loaded = playground.spec_that_ran(config, view, dataset)
                form["spec"] = loaded["spec"] or ""
                if loaded["spec"] is None:
                    error = f"the ledger keeps no spec for {loaded['ruleset_hash']}"
            except JobRequestError as exc:
                error = str(exc)
        return playground_render(request, form, None, error)

    @app.post("/playground", include_in_schema=False)
    async def playground_form(request: Request, user: Writer) -> Response:
        raw = await request.form()
        form: dict[str, Any] = {k: str(v) for k, v in raw.items() if isinstance(v, str)}
        action = form.get("action", "check")
        if action == "export":
            return Response(
                form.get("spec", ""),
                media_type="application/octet-stream",
                headers={"Content-Disposition": 'attachment; filename="rules.yaml"'},
            )
        if action not in ("check", "dry-run", "backtest"):
            raise HTTPException(400, f"unknown action {action!r}")
        if action != "check" and not user.may("operator"):
            raise HTTPException(403, "this needs the operator role")
        try:
            result = await asyncio.to_thread(playground_call, action, form)
        except HTTPException as exc:
            return playground_render(request, form, None, str(exc.detail), exc.status_code)
        result["action"] = action
        return playground_render(request, form, result, None)

    return app


def _open_s3(uri: str, storage_options: dict[str, str]) -> io.BufferedReader:
    """The object as a seekable stream; each buffer fill is one ranged GET of 64 KiB."""
    from pyrustpipe._ledger_files import open_input

    return io.BufferedReader(open_input(uri, storage_options or None), 1 << 16)  # type: ignore[arg-type]


def _stored_spec_view(
    ledger: str, rules_hash: str, storage_options: dict[str, str]
) -> dict[str, Any] | None:
    """The browser's view of the spec a ledger run stored (``<ledger>/_specs/``); None when it
    is absent or not a spec this console can read (then nothing tells what is sensitive)."""
    from pyrustpipe._ledger_files import read_spec

    if not re.fullmatch(r"sha256:[0-9a-f]{1,128}", rules_hash or ""):
        return None  # a tampered hash must not name another file
    spec = read_spec(ledger, rules_hash, storage_options or None)
    if spec is None:
        return None
    try:
        view = spec_view(spec)
    except (AttributeError, KeyError, TypeError):
        return None
    names = (*view["sensitive"], *view["columns"])
    dialect = (view["delimiter"], view["quote"])
    if not all(isinstance(v, str) for v in names) or not all(
        isinstance(c, str) and len(c) == 1 for c in dialect
    ):
        return None
    return view


def _local(target: str) -> str:
    """Only a path on this server may follow a login (no open redirect)."""
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def _explain(rule: dict[str, Any], report: dict[str, Any] | None) -> str:
    """A history check's verdict in a sentence: the report's sample message when the console
    has the report, else built from the entry's detail."""
    for item in (report or {}).get("rules", []):
        if item.get("name") == rule["name"] and item.get("samples"):
            return str(item["samples"][0].get("message", ""))
    detail = rule.get("detail") or {}
    if rule["status"] == "skipped":
        return str(detail.get("reason", "skipped"))
    value = detail.get("value", rule.get("observed"))
    low, high = rule.get("expected_low"), rule.get("expected_high")
    if low is None or high is None:
        return f"{rule['status']}: value {value}"
    points = len(detail.get("history", []))
    median = detail.get("median")
    return (
        f"{rule['status']}: value {value:.6g}; expected {low:.6g}..{high:.6g} "
        f"(median {median} of {points} earlier partitions, sigma {detail.get('sigma')})"
        if isinstance(value, (int, float))
        else f"{rule['status']}: expected {low:.6g}..{high:.6g}"
    )


def _dataset_charts(d: dict[str, Any]) -> dict[str, Any]:
    runs = d["runs"]
    dates = [r["logical_date"] for r in runs]
    index = {c["logical_date"]: i for i, c in reversed(list(enumerate(runs)))}
    marks = [index[c["logical_date"]] for c in d["schema_changes"] if c["logical_date"] in index]
    bad = [i for i, r in enumerate(runs) if not r["passed"]]
    out: dict[str, Any] = {
        "rows": charts.series_chart(
            "Rows per partition", dates, [r["rows"] for r in runs], marks=marks, bad=bad
        ),
        "invalid": charts.series_chart(
            "Invalid rate",
            dates,
            [r["invalid_rate"] for r in runs],
            marks=marks,
            bad=bad,
            percent=True,
        ),
        "rules": {
            name: charts.series_chart(
                f"Rows failing {name}", dates, values, bad=[i for i, v in enumerate(values) if v]
            )
            for name, values in d["rule_failures"].items()
        },
        "history": {
            name: charts.series_chart(
                f"{name}: observed and expected band",
                dates,
                h["observed"],
                low=h["expected_low"],
                high=h["expected_high"],
                bad=[i for i, s in enumerate(h["status"]) if s == "fail"],
            )
            for name, h in d["history"].items()
        },
    }
    return out
