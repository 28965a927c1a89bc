"""The playground's ASGI app (Starlette): JSON endpoints and a WebSocket that streams training.

Endpoints (JSON; errors are ``{"error": message, "field": name}`` with a 4xx status):

- ``GET  /api/limits``                    choices and bounds of every parameter, and the defaults
- ``POST /api/validate``                  body: a config → ``{"config": normalised}`` or 422
- ``POST /api/sessions``                  body: a config → 201 ``{"id", "config", "snapshot"}``; 503 when full
- ``GET  /api/sessions/{id}``             ``{"config", "running", "snapshot"}``
- ``GET  /api/sessions/{id}/data``        the train and test points
- ``POST /api/sessions/{id}/step``        body ``{"epochs": n}`` (1–100) → snapshot
- ``POST /api/sessions/{id}/reset``       body: optional new config → snapshot
- ``DELETE /api/sessions/{id}``
- ``GET  /api/sessions/{id}/export/checkpoint``  a fukaku checkpoint, as a download
- ``GET  /api/sessions/{id}/export/script``      the equivalent PyTorch program, as a download
- ``GET  /``                              the page (``fukaku/playground/static/``; CSP and nosniff headers)
- ``WS   /api/sessions/{id}/ws``          send ``{"action": "run" | "pause" | "step" | "reset", "config"?: …}``;
  receives ``{"type": "snapshot", "running": bool, …snapshot}`` (its curves hold only the epochs not yet
  sent on this socket, from ``curve.from``) after each command and, while running,
  about ``updates_per_second`` times a second; ``{"type": "error", …}`` for a bad command or a spent budget.

A POST or DELETE from another site's page (its ``Origin``) gets 403, so no page can fill the server
with sessions or drive one (no cross-site request forgery).

Limits: at most ``max_sessions`` sessions (idle ones, untouched for ``idle_seconds`` with no socket
open, are ended when room is needed and by a reaper that runs every min(30, idle_seconds / 2) s),
``cpu_budget`` seconds of training CPU per session, and a WebSocket whose ``Origin`` is not this
server's own (scheme and ``Host``) is refused before it is accepted (no cross-site WebSocket hijacking).
With ``allowed_hosts``, a request (HTTP or WebSocket) whose ``Host`` names another machine is refused,
so a DNS-rebinding page cannot reach a server on 127.0.0.1 (:func:`split_host` reads ``name[:port]`` and
``[v6]:port``). Training runs in a worker thread in slices of 60 % of the update period (30 ms; shorter
while others wait, 30 ms / (1 + waiting), but at least one epoch, so each of many sessions still sees
updates often), and every computation of fukaku's (a slice, a snapshot, a new session) takes the one
compute lock, first come, first served: the sessions share the CPU evenly, and the event loop, which
never computes, stays responsive. One at a time, not one per CPU: fukaku's grad mode is process-wide
(PyTorch's is per thread), so two threads computing at once would switch each other's autograd off;
and with the GIL, two Python-bound trainings in threads go no faster than one.
"""
from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import json
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from starlette.applications import Starlette
from starlette.datastructures import Headers
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.websockets import WebSocket, WebSocketDisconnect

from .config import ConfigError, PlaygroundConfig, limits
from .export import checkpoint_bytes, script_text
from .session import Session

MAX_STEP_EPOCHS = 100
UPDATES_PER_SECOND = 25.0  # while running; issue 12 asks for at least 20
SLICE_SHARE = 0.5  # of each update's period spent training (alone on the compute lock), the rest for the update
STATIC = Path(__file__).parent / "static"  # the page: index.html, app.js, style.css
T = TypeVar("T")


class PlaygroundError(Exception):
    """A request the server refuses: an HTTP status, a message and the field at fault (if any)."""

    def __init__(self, status: int, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.field = status, message, field


@dataclass
class Entry:
    """A session and its bookkeeping on the server."""

    session: Session
    last_seen: float = field(default_factory=time.monotonic)
    running: bool = False
    sockets: int = 0


class SessionManager:
    """Bounded sessions: at most ``max_sessions``; one untouched for ``idle_seconds`` (and with no open
    WebSocket) is ended when room is needed or on :meth:`reap`; each may train ``cpu_budget`` CPU seconds."""

    def __init__(self, max_sessions: int = 16, idle_seconds: float = 600.0, cpu_budget: float = 600.0) -> None:
        self.max_sessions, self.idle_seconds, self.cpu_budget = max_sessions, idle_seconds, cpu_budget
        self.entries: dict[str, Entry] = {}
        self._compute: asyncio.Lock | None = None
        self.waiting = 0  # computations waiting for their turn

    def open(self) -> None:
        """Start serving in the running event loop: a fresh compute lock (see :meth:`compute`)."""
        self._compute = asyncio.Lock()

    async def compute(self, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn(*args)`` (a slice of training, a snapshot: any fukaku computation) in a worker thread,
        one at a time, in the order asked (asyncio's lock is first come, first served): sessions share the
        CPU evenly, and the event loop, waiting meanwhile, gets the GIL every few milliseconds to answer.
        When the caller is cancelled (its socket closed), the thread runs on, and the next computation waits
        until it has ended."""
        if self._compute is None:
            self.open()
        lock = self._compute
        self.waiting += 1
        try:
            await lock.acquire()
        finally:
            self.waiting -= 1
        work = asyncio.ensure_future(asyncio.to_thread(fn, *args))
        work.add_done_callback(lambda done: (done.cancelled() or done.exception(), lock.release()))
        return await asyncio.shield(work)

    def reap_interval(self) -> float:
        """Seconds between two runs of the idle reaper: min(30, idle_seconds / 2), at least 10 ms."""
        return max(0.01, min(30.0, self.idle_seconds / 2))

    async def reaper(self) -> None:
        """End idle sessions every :meth:`reap_interval` seconds, so they end even when no session is created."""
        while True:
            await asyncio.sleep(self.reap_interval())
            self.reap()

    def reap(self) -> None:
        """End the idle sessions."""
        now = time.monotonic()
        for key in [k for k, e in self.entries.items() if e.sockets == 0 and now - e.last_seen > self.idle_seconds]:
            del self.entries[key]

    def check_room(self) -> None:
        """Make room by ending idle sessions; refuse (503) when the server is still full."""
        self.reap()
        if len(self.entries) >= self.max_sessions:
            raise PlaygroundError(503, f"the server holds its maximum of {self.max_sessions} sessions; close another "
                                  "playground tab or wait for idle sessions to end")

    def create(self, config: PlaygroundConfig, session: Session | None = None) -> tuple[str, Entry]:
        """Hold a new session (``session``, already built for ``config``, or built here) under a new id."""
        self.check_room()
        key = secrets.token_urlsafe(16)
        self.entries[key] = entry = Entry(Session(config) if session is None else session)
        return key, entry

    def get(self, key: str) -> Entry:
        entry = self.entries.get(key)
        if entry is None:
            raise PlaygroundError(404, f"no session {key!r} (it may have ended after being idle); create a new one")
        entry.last_seen = time.monotonic()
        return entry

    def check_budget(self, entry: Entry) -> None:
        if entry.session.cpu_seconds >= self.cpu_budget:
            entry.running = False
            raise PlaygroundError(429, f"this session has used its training budget of {self.cpu_budget:g} CPU "
                                  "seconds; reset it or start a new one")

    def delete(self, key: str) -> None:
        self.get(key)
        del self.entries[key]


def _error(exc: PlaygroundError | ConfigError) -> JSONResponse:
    if isinstance(exc, ConfigError):
        return JSONResponse({"error": str(exc), "field": exc.field}, status_code=422)
    return JSONResponse({"error": exc.message, "field": exc.field}, status_code=exc.status)


async def _json(request: Request, default: Any = None) -> Any:
    body = await request.body()
    if not body:
        return default
    try:
        return json.loads(body)
    except json.JSONDecodeError as exc:
        raise PlaygroundError(400, f"the request body is not JSON: {exc}") from None


def _config(data: Any) -> PlaygroundConfig:
    return PlaygroundConfig.from_dict({} if data is None else data)


def _handled(endpoint):
    """The endpoint with its refusals answered as JSON errors; a request that changes state (not GET or
    HEAD) from another site's page (a foreign ``Origin``) is refused with 403 before it runs."""
    async def wrapper(request: Request) -> Response:
        try:
            if request.method not in ("GET", "HEAD") and not origin_allowed(request.headers, request.url.scheme):
                raise PlaygroundError(403, f"a request from the page at {request.headers['origin']!r} is refused: "
                                      "the playground's API answers its own page only")
            return await endpoint(request)
        except (PlaygroundError, ConfigError) as exc:
            return _error(exc)
    return wrapper


def _download(content: bytes | str, filename: str, media_type: str) -> Response:
    return Response(content, media_type=media_type,
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


_HOSTNAME = re.compile(r"[A-Za-z0-9_.-]+")


def split_host(value: str | None) -> tuple[str, int | None] | None:
    """A ``Host`` header as ``(name, port)``: ``name[:port]`` or ``[v6]:port`` (the port optional); the
    name lowercased and an IPv6 address without its brackets. None when it is neither (missing, empty, a
    bare IPv6 address, a bad port, characters no host name has).

    >>> split_host("[::1]:8000"), split_host("LocalHost"), split_host("::1")
    (('::1', 8000), ('localhost', None), None)
    """
    if not value:
        return None
    if value.startswith("["):
        name, bracket, rest = value[1:].partition("]")
        try:
            if not bracket or ipaddress.ip_address(name).version != 6:
                return None
        except ValueError:
            return None
    else:
        name, colon, port = value.partition(":")
        rest = colon + port
        if not _HOSTNAME.fullmatch(name):
            return None
    if not rest:
        return name.lower(), None
    port = rest[1:]
    if rest[0] != ":" or not (port.isascii() and port.isdigit() and len(port) <= 5 and int(port) <= 65535):
        return None
    return name.lower(), int(port)


def join_host(name: str, port: int | None) -> str:
    """The ``Host`` form of ``(name, port)``: brackets around an IPv6 address, ``:port`` when given."""
    host = f"[{name}]" if ":" in name else name
    return host if port is None else f"{host}:{port}"


def host_allowed(value: str | None, allowed: list[str] | None) -> bool:
    """Whether a request's ``Host`` names one of ``allowed`` (names or addresses, IPv6 with or without
    brackets, any port); ``allowed=None`` accepts any."""
    if allowed is None:
        return True
    parsed = split_host(value)
    return parsed is not None and parsed[0] in {a.strip("[]").lower() for a in allowed}


class HostCheck:
    """ASGI middleware: refuse HTTP requests (400) and WebSockets (closed before they are accepted, a 403
    to the browser) whose ``Host`` is not among ``allowed_hosts`` (see :func:`host_allowed`). Unlike
    Starlette's TrustedHostMiddleware it reads ``[::1]:8000`` as the host ``::1``."""

    def __init__(self, app: ASGIApp, allowed_hosts: list[str]) -> None:
        self.app, self.allowed_hosts = app, list(allowed_hosts)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        host = Headers(scope=scope).get("host")
        if host_allowed(host, self.allowed_hosts):
            await self.app(scope, receive, send)
        elif scope["type"] == "http":
            message = (f"Host {host!r} is not this server's ({', '.join(self.allowed_hosts)}): refused, as a page "
                       "on another site could reach it by DNS rebinding; open the playground by one of those names")
            await JSONResponse({"error": message, "field": None}, status_code=400)(scope, receive, send)
        else:
            await WebSocket(scope, receive, send).close(code=1008, reason="Host not allowed")


def page_policy(host: str | None) -> str:
    """The page's Content-Security-Policy: its own scripts and styles only, images from itself and
    ``data:`` URLs, connections to itself, including its WebSocket (``ws://`` / ``wss://`` + the request's
    ``Host``: CSP's ``'self'`` does not cover WebSockets in every browser); no plugins, no framing."""
    connect = "'self'"
    parsed = split_host(host)
    if parsed is not None:  # rebuilt from its parts, so nothing but a host name reaches the header
        own = join_host(*parsed)
        connect += f" ws://{own} wss://{own}"
    return ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            f"connect-src {connect}; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")


class PageFiles(StaticFiles):
    """The page's files (``html=True``: ``/`` serves ``index.html``) with :func:`page_policy` and
    ``X-Content-Type-Options: nosniff`` on every response."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        response.headers["Content-Security-Policy"] = page_policy(Headers(scope=scope).get("host"))
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response


def origin_allowed(headers, scheme: str) -> bool:
    """A WebSocket may connect, and a POST or DELETE run, when it sends no Origin (not a browser) or its
    Origin is this server's own: ``http(s)://`` + the Host it asked for."""
    origin, host = headers.get("origin"), headers.get("host")
    if origin is None:
        return True
    own = "https" if scheme in ("wss", "https") else "http"
    return host is not None and origin.rstrip("/") == f"{own}://{host}"


def create_app(max_sessions: int = 16, idle_seconds: float = 600.0, cpu_budget: float = 600.0,
               updates_per_second: float = UPDATES_PER_SECOND, allowed_hosts: list[str] | None = None,
               static_dir: str | Path | None = None) -> Starlette:
    """The playground app with its limits (see the module docstring). ``allowed_hosts``: the Host names
    accepted (others get 400, a WebSocket is refused), which keeps a DNS-rebinding page out of a server on
    127.0.0.1; None accepts any.
    ``static_dir``: the page's folder, served at ``/`` (default: the package's ``static/``)."""
    sessions = SessionManager(max_sessions, idle_seconds, cpu_budget)

    @_handled
    async def get_limits(request: Request) -> Response:
        return JSONResponse({**limits(), "defaults": PlaygroundConfig().to_dict(), "max_sessions": max_sessions,
                             "cpu_budget": cpu_budget, "max_step_epochs": MAX_STEP_EPOCHS})

    @_handled
    async def validate(request: Request) -> Response:
        return JSONResponse({"config": _config(await _json(request)).to_dict()})

    @_handled
    async def create(request: Request) -> Response:
        config = _config(await _json(request))
        sessions.check_room()  # before building it; create() checks again, as others may have come meanwhile

        def build() -> tuple[Session, dict]:
            session = Session(config)
            return session, session.snapshot()

        session, snapshot = await sessions.compute(build)
        key, _ = sessions.create(config, session)
        return JSONResponse({"id": key, "config": config.to_dict(), "snapshot": snapshot}, status_code=201)

    @_handled
    async def show(request: Request) -> Response:
        entry = sessions.get(request.path_params["id"])
        return JSONResponse({"config": entry.session.config.to_dict(), "running": entry.running,
                             "snapshot": await sessions.compute(entry.session.snapshot)})

    @_handled
    async def data(request: Request) -> Response:
        return JSONResponse(await sessions.compute(sessions.get(request.path_params["id"]).session.data))

    @_handled
    async def step(request: Request) -> Response:
        entry = sessions.get(request.path_params["id"])
        body = await _json(request, {})
        epochs = body.get("epochs", 1) if isinstance(body, dict) else None
        if isinstance(epochs, bool) or not isinstance(epochs, int) or not 1 <= epochs <= MAX_STEP_EPOCHS:
            raise PlaygroundError(422, f"epochs: expected an integer from 1 to {MAX_STEP_EPOCHS}, got {epochs!r}",
                                  "epochs")
        sessions.check_budget(entry)
        await sessions.compute(entry.session.step, epochs)
        return JSONResponse(await sessions.compute(entry.session.snapshot))

    @_handled
    async def reset(request: Request) -> Response:
        entry = sessions.get(request.path_params["id"])
        body = await _json(request)
        await sessions.compute(entry.session.reset, None if body is None else _config(body))
        return JSONResponse(await sessions.compute(entry.session.snapshot))

    @_handled
    async def delete(request: Request) -> Response:
        sessions.delete(request.path_params["id"])
        return Response(status_code=204)

    @_handled
    async def export_checkpoint(request: Request) -> Response:
        entry = sessions.get(request.path_params["id"])
        return _download(await sessions.compute(checkpoint_bytes, entry.session), "playground.pt",
                         "application/octet-stream")

    @_handled
    async def export_script(request: Request) -> Response:
        entry = sessions.get(request.path_params["id"])
        return _download(await sessions.compute(script_text, entry.session), "playground.py",
                         "text/x-python; charset=utf-8")

    async def stream(ws: WebSocket) -> None:
        if not origin_allowed(ws.headers, ws.url.scheme):
            await ws.close(code=1008, reason="cross-origin WebSocket refused")  # before accept: a 403
            return
        try:
            entry = sessions.get(ws.path_params["id"])
        except PlaygroundError as exc:
            await ws.close(code=1008, reason=exc.message[:120])
            return
        await ws.accept()
        entry.sockets += 1
        session, period = entry.session, 1.0 / updates_per_second
        sent = {"next": 0}  # the curves go out once: each update carries the epochs this socket has not seen
        sending = asyncio.Lock()  # the trainer's updates and the commands' replies go out one at a time, in order

        def snapshot_text() -> tuple[int, str]:  # computed in the worker thread: maps, their encoding, JSON
            snap = session.snapshot(sent["next"])
            return snap["epoch"], json.dumps({"type": "snapshot", "running": entry.running, **snap})

        failures: list[str] = []

        def train_slice() -> tuple[int, str]:  # a slice and its update, in one turn of the compute lock
            if entry.running:  # still running after waiting for its turn
                try:
                    session.advance(period * SLICE_SHARE / (1 + sessions.waiting))
                except Exception as exc:  # noqa: BLE001 - a failed slice ends this session's run, not the server
                    entry.running = False
                    failures.append(f"training stopped: {type(exc).__name__}: {exc}")
            return snapshot_text()

        async def send_snapshot(job: Callable[[], tuple[int, str]] = snapshot_text) -> None:
            async with sending:
                epoch, text = await sessions.compute(job)
                sent["next"] = epoch + 1
                await ws.send_text(text)

        async def trainer() -> None:
            while True:
                if not entry.running:
                    await asyncio.sleep(period)
                    continue
                try:
                    sessions.check_budget(entry)
                except PlaygroundError as exc:
                    await ws.send_json({"type": "error", "error": exc.message, "field": None})
                    await send_snapshot()
                    continue
                start = time.perf_counter()
                await send_snapshot(train_slice)
                while failures:
                    await ws.send_json({"type": "error", "error": failures.pop(0), "field": None})
                entry.last_seen = time.monotonic()
                await asyncio.sleep(max(0.0, period - (time.perf_counter() - start)))

        task = asyncio.create_task(trainer())
        try:
            await send_snapshot()
            while True:
                message = await ws.receive_json()
                entry.last_seen = time.monotonic()
                try:
                    await _command(entry, message)
                except (PlaygroundError, ConfigError) as exc:
                    await ws.send_json({"type": "error", "error": str(exc) if isinstance(exc, ConfigError)
                                        else exc.message, "field": exc.field})
                    continue
                if message.get("action") == "reset":
                    sent["next"] = 0  # a new curve: send it whole
                await send_snapshot()
        except (WebSocketDisconnect, RuntimeError, json.JSONDecodeError):
            pass
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task  # its end, whatever it was (a send to the closed socket), is taken here
            entry.sockets -= 1
            if entry.sockets == 0:
                entry.running = False  # a closed tab stops training

    async def _command(entry: Entry, message: Any) -> None:
        action = message.get("action") if isinstance(message, dict) else None
        if action == "run":
            sessions.check_budget(entry)
            entry.running = True
        elif action == "pause":
            entry.running = False
        elif action == "step":
            entry.running = False
            sessions.check_budget(entry)
            await sessions.compute(entry.session.step, 1)
        elif action == "reset":
            entry.running = False
            config = message.get("config")
            await sessions.compute(entry.session.reset, None if config is None else _config(config))
        else:
            raise PlaygroundError(400, f"unknown action {action!r}; send run, pause, step or reset", "action")

    routes = [Route("/api/limits", get_limits), Route("/api/validate", validate, methods=["POST"]),
              Route("/api/sessions", create, methods=["POST"]),
              Route("/api/sessions/{id}", show), Route("/api/sessions/{id}", delete, methods=["DELETE"]),
              Route("/api/sessions/{id}/data", data), Route("/api/sessions/{id}/step", step, methods=["POST"]),
              Route("/api/sessions/{id}/reset", reset, methods=["POST"]),
              Route("/api/sessions/{id}/export/checkpoint", export_checkpoint),
              Route("/api/sessions/{id}/export/script", export_script),
              WebSocketRoute("/api/sessions/{id}/ws", stream),
              # after the API: the page, "/" being index.html (the folder may be filled after the app is made)
              Mount("/", app=PageFiles(directory=STATIC if static_dir is None else static_dir, html=True,
                                       check_dir=False), name="page")]
    middleware = [] if allowed_hosts is None else [Middleware(HostCheck, allowed_hosts=allowed_hosts)]

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette):
        sessions.open()
        reaper = asyncio.create_task(sessions.reaper())
        try:
            yield
        finally:
            reaper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reaper

    app = Starlette(routes=routes, middleware=middleware, lifespan=lifespan)
    app.state.sessions = sessions
    return app


__all__ = ["create_app", "SessionManager", "PlaygroundError", "origin_allowed", "split_host", "join_host",
           "host_allowed", "HostCheck", "page_policy", "PageFiles", "STATIC"]
