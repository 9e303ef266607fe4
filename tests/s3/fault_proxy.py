"""A small fault-injecting HTTP/1.1 proxy for the S3 tests (our own code, loopback only).

It sits between an S3 client (boto3, the Rust aws-sdk-s3) and the local S3 server, runs an asyncio
loop in a background thread, and understands just enough HTTP/1.1 to find where each request and
each response ends (Content-Length, ``Transfer-Encoding: chunked``, keep-alive with many requests
per connection). Requests are forwarded byte for byte, so SigV4 signatures stay valid; the one
exception is ``Expect: 100-continue``, which the proxy answers itself and drops (it is not signed).

Faults (``add_fault``) match requests in the order they were added; each is used ``times`` times:

- ``slowdown``: answer ``503 SlowDown`` (S3 XML error body) without forwarding;
- ``status``: answer ``status`` (int) with error ``code`` (e.g. 500 InternalError), not forwarded;
- ``reset``: read the request, then close the client connection with a TCP RST (SO_LINGER 0);
- ``cut_body``: forward, then close the connection after ``after_bytes`` bytes of response body
  (a FIN, so exactly that many arrive; ``rst=True`` resets instead);
- ``stall``: forward, send the response headers, then send nothing for ``seconds`` (then go on);
  with ``before_head=True`` the headers wait too: the server has answered (a write is stored)
  while the client hears nothing — a response without a body (a PUT's) holds no client otherwise;
- ``drop``: read the request, answer ``200 OK`` without forwarding it: a write the server says it
  stored but did not (as when a non-atomic conditional put lets a racing write overwrite it);
- ``late``: read the whole request, hold it ``seconds``, then forward it, even when the client has
  hung up meanwhile: a write the server applies after the client stopped waiting (the client's
  next request may come first).

``path_regex`` is searched (``re.search``) in the request target, query string included, so
``r"uploadId="`` or ``r"partNumber=2"`` select multipart operations.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import socket
import struct
import threading
from dataclasses import dataclass, field
from typing import Any

KINDS = frozenset({"slowdown", "reset", "cut_body", "stall", "status", "drop", "late"})
IDLE_TIMEOUT = 60.0  # seconds a connection may wait for its next request or response bytes
MAX_HEAD = 64 * 1024


@dataclass
class Fault:
    method: str | None
    path_regex: re.Pattern[str] | None
    kind: str
    times: int
    params: dict[str, Any] = field(default_factory=dict)

    def matches(self, method: str, target: str) -> bool:
        if self.method is not None and self.method.upper() != method:
            return False
        return self.path_regex is None or self.path_regex.search(target) is not None


@dataclass
class _Head:
    first_line: str
    headers: list[tuple[str, str]]

    @property
    def status(self) -> int:
        return int(self.first_line.split(" ", 2)[1])

    def get(self, name: str) -> str | None:
        for key, value in self.headers:
            if key.lower() == name:
                return value
        return None

    def encode(self, drop: frozenset[str] = frozenset()) -> bytes:
        lines = [self.first_line] + [f"{k}: {v}" for k, v in self.headers if k.lower() not in drop]
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


class _Closed(Exception):
    """The peer closed the connection between messages."""


async def _read_head(reader: asyncio.StreamReader) -> _Head:
    try:
        raw = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), IDLE_TIMEOUT)
    except asyncio.IncompleteReadError as exc:
        raise _Closed from exc
    except asyncio.LimitOverrunError as exc:
        raise ValueError("HTTP head too large") from exc
    lines = raw.decode("latin-1").split("\r\n")
    headers = []
    for line in lines[1:]:
        if line:
            key, _, value = line.partition(":")
            headers.append((key.strip(), value.strip()))
    return _Head(lines[0], headers)


class _Held:
    """A request body kept back (the ``late`` fault): the writer ``_copy_body`` copies into."""

    def __init__(self) -> None:
        self.data = bytearray()

    def write(self, data: bytes) -> None:
        self.data += data

    async def drain(self) -> None:
        return None


async def _copy_body(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter | _Held | None,
    head: _Head,
    *,
    limit: int | None = None,
    until_eof: bool = False,
) -> bool:
    """Copy one message body (raw bytes) from ``reader`` to ``writer``.

    Returns False when ``limit`` body bytes were copied before the end (the caller cuts the
    connection). With ``writer`` None the body is read and discarded. Chunked bodies are copied
    chunk by chunk until the terminating chunk and its trailers.
    """
    sent = 0

    async def emit(data: bytes) -> bool:
        nonlocal sent
        if limit is not None and sent + len(data) > limit:
            if writer is not None:
                writer.write(data[: limit - sent])
                await writer.drain()
            return False
        sent += len(data)
        if writer is not None:
            writer.write(data)
            await writer.drain()
        return True

    async def read(n: int) -> bytes:
        return await asyncio.wait_for(reader.readexactly(n), IDLE_TIMEOUT)

    async def readline() -> bytes:
        return await asyncio.wait_for(reader.readuntil(b"\r\n"), IDLE_TIMEOUT)

    encoding = (head.get("transfer-encoding") or "").lower()
    if "chunked" in encoding:
        while True:
            size_line = await readline()
            size = int(size_line.split(b";", 1)[0].strip(), 16)
            if not await emit(size_line):
                return False
            if size == 0:
                while True:  # trailers, then the empty line
                    line = await readline()
                    if not await emit(line):
                        return False
                    if line == b"\r\n":
                        return True
            if not await emit(await read(size + 2)):
                return False
    length = head.get("content-length")
    remaining = int(length) if length is not None else (-1 if until_eof else 0)
    while remaining != 0:
        data = await asyncio.wait_for(
            reader.read(65536 if remaining < 0 else min(remaining, 65536)), IDLE_TIMEOUT
        )
        if not data:
            if remaining < 0:
                return True
            raise asyncio.IncompleteReadError(b"", remaining)
        if remaining > 0:
            remaining -= len(data)
        if not await emit(data):
            return False
    return True


def _error_response(status: int, code: str, message: str, close: bool) -> bytes:
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{code}</Code><Message>{message}</Message>"
        "<RequestId>faultproxy</RequestId></Error>"
    ).encode()
    head = (
        f"HTTP/1.1 {status} {code}\r\nContent-Type: application/xml\r\n"
        f"Content-Length: {len(body)}\r\nx-amz-request-id: faultproxy\r\n"
        f"Connection: {'close' if close else 'keep-alive'}\r\n\r\n"
    )
    return head.encode() + body


def _rst(writer: asyncio.StreamWriter) -> None:
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


class FaultProxy:
    """Controller: start(), add_fault(), requests, count(), clear(), stop()."""

    def __init__(self, upstream_host: str, upstream_port: int) -> None:
        self.upstream = (upstream_host, upstream_port)
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self._requests: list[tuple[str, str]] = []
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="fault-proxy", daemon=True
        )
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.port = 0

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # -- controller API (called from the test thread) --------------------------------------
    def add_fault(
        self, method: str | None, path_regex: str | None, kind: str, times: int = 1, **params: Any
    ) -> None:
        if kind not in KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; one of {sorted(KINDS)}")
        if kind == "cut_body" and "after_bytes" not in params:
            raise ValueError("cut_body needs after_bytes=")
        if kind == "status" and not {"status", "code"} <= params.keys():
            raise ValueError("status needs status= and code=")
        pattern = re.compile(path_regex) if path_regex is not None else None
        with self._lock:
            self._faults.append(Fault(method, pattern, kind, times, dict(params)))

    @property
    def requests(self) -> list[tuple[str, str]]:
        with self._lock:
            return list(self._requests)

    def count(self, method: str | None = None, path_regex: str | None = None) -> int:
        probe = Fault(method, re.compile(path_regex) if path_regex else None, "", 0)
        return sum(probe.matches(m, t) for m, t in self.requests)

    def pending_faults(self) -> int:
        with self._lock:
            return sum(f.times for f in self._faults)

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()
            self._requests.clear()

    def start(self) -> FaultProxy:
        self._thread.start()
        fut = asyncio.run_coroutine_threadsafe(self._start(), self._loop)
        fut.result(timeout=10)
        return self

    def stop(self) -> None:
        if not self._thread.is_alive():
            return
        asyncio.run_coroutine_threadsafe(self._stop(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()

    # -- event-loop side --------------------------------------------------------------------
    async def _start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0, limit=MAX_HEAD)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _stop(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def _take_fault(self, method: str, target: str) -> Fault | None:
        with self._lock:
            self._requests.append((method, target))
            for fault in self._faults:
                if fault.times > 0 and fault.matches(method, target):
                    fault.times -= 1
                    if fault.times == 0:
                        self._faults.remove(fault)
                    return fault
        return None

    async def _serve(self, creader: asyncio.StreamReader, cwriter: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        conn = _Conn(creader, cwriter)
        try:
            while await self._one_exchange(conn):
                pass
        except (_Closed, OSError, asyncio.IncompleteReadError, asyncio.TimeoutError, ValueError):
            pass
        finally:
            self._tasks.discard(task)
            cwriter.close()
            if conn.upstream is not None:
                conn.upstream[1].close()

    async def _one_exchange(self, conn: _Conn) -> bool:
        """Handle one request; return whether to keep the client connection for another."""
        creader, cwriter = conn.reader, conn.writer
        req = await _read_head(creader)
        method, target, _ = req.first_line.split(" ", 2)
        fault = self._take_fault(method, target)
        expect = (req.get("expect") or "").lower() == "100-continue"
        close = (req.get("connection") or "").lower() == "close"

        if fault is not None and fault.kind in ("slowdown", "status"):
            if fault.kind == "slowdown":
                status, code, msg = 503, "SlowDown", "Please reduce your request rate."
            else:
                status = int(fault.params["status"])
                code = str(fault.params["code"])
                msg = str(fault.params.get("message", "Injected by the fault proxy."))
            if not expect:
                await _copy_body(creader, None, req)  # consume it to keep the connection usable
            # With Expect: 100-continue the client has not sent its body: answer and close.
            cwriter.write(_error_response(status, code, msg, close=expect or close))
            await cwriter.drain()
            return not (expect or close)

        if expect:
            cwriter.write(b"HTTP/1.1 100 Continue\r\n\r\n")
            await cwriter.drain()
        if fault is not None and fault.kind == "reset":
            await _copy_body(creader, None, req)
            _rst(cwriter)
            return False
        if fault is not None and fault.kind == "drop":
            await _copy_body(creader, None, req)
            cwriter.write(
                b'HTTP/1.1 200 OK\r\nContent-Length: 0\r\nETag: "dropped"\r\n'
                b"x-amz-request-id: faultproxy\r\n\r\n"
            )
            await cwriter.drain()
            return not close

        held = None
        if fault is not None and fault.kind == "late":
            held = _Held()
            await _copy_body(creader, held, req)
            await asyncio.sleep(float(fault.params.get("seconds", 1.0)))
        if conn.upstream is None or conn.upstream[0].at_eof():
            if conn.upstream is not None:
                conn.upstream[1].close()
            conn.upstream = await asyncio.wait_for(
                asyncio.open_connection(*self.upstream, limit=MAX_HEAD), IDLE_TIMEOUT
            )
        ureader, uwriter = conn.upstream
        uwriter.write(req.encode(drop=frozenset({"expect"})))
        if held is None:
            await _copy_body(creader, uwriter, req)
        else:
            uwriter.write(held.data)
            await uwriter.drain()

        resp = await _read_head(ureader)
        while resp.status // 100 == 1:  # interim responses
            cwriter.write(resp.encode())
            resp = await _read_head(ureader)
        stall = fault is not None and fault.kind == "stall"
        before_head = stall and bool(fault.params.get("before_head"))
        if before_head:
            await asyncio.sleep(float(fault.params.get("seconds", 5.0)))
        cwriter.write(resp.encode())
        await cwriter.drain()
        if method == "HEAD" or resp.status in (204, 304):
            return not close
        if stall and not before_head:
            await asyncio.sleep(float(fault.params.get("seconds", 5.0)))
        limit = int(fault.params["after_bytes"]) if fault and fault.kind == "cut_body" else None
        no_length = (
            resp.get("content-length") is None
            and "chunked" not in (resp.get("transfer-encoding") or "").lower()
        )
        if not await _copy_body(ureader, cwriter, resp, limit=limit, until_eof=no_length):
            # cut: a graceful close delivers exactly after_bytes; rst=True resets instead
            if fault is not None and fault.params.get("rst"):
                await asyncio.sleep(0.2)  # let the client take the headers before the RST
                _rst(cwriter)
            return False
        resp_close = (resp.get("connection") or "").lower() == "close"
        return not (close or resp_close or no_length)


class _Conn:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.upstream: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
