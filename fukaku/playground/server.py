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
- ``WS   /api/sessions/{id}/ws``          send ``{"action": "run" | "pause" | "step" | "reset", "config"?: …}``;
  receives ``{"type": "snapshot", "running": bool, …snapshot}`` (its curves hold only the epochs not yet
  sent on this socket, from ``curve.from``) after each command and, while running,
  about ``updates_per_second`` times a second; ``{"type": "error", …}`` for a bad command or a spent budget.

Limits: at most ``max_sessions`` sessions (idle ones, untouched for ``idle_seconds``, are ended first),
``cpu_budget`` seconds of training CPU per session, and a WebSocket whose ``Origin`` is not this
server's own (scheme and ``Host``) is refused before it is accepted (no cross-site WebSocket hijacking).
Training runs in a worker thread, one slice at a time, so the event loop stays responsive.
"""
from __future__ import annotations

import asyncio
import json
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from .config import ConfigError, PlaygroundConfig, limits
from .export import checkpoint_bytes, script_text
from .session import Session

MAX_STEP_EPOCHS = 100


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

    def reap(self) -> None:
        """End the idle sessions."""
        now = time.monotonic()
        for key in [k for k, e in self.entries.items() if e.sockets == 0 and now - e.last_seen > self.idle_seconds]:
            del self.entries[key]

    def create(self, config: PlaygroundConfig) -> tuple[str, Entry]:
        self.reap()
        if len(self.entries) >= self.max_sessions:
            raise PlaygroundError(503, f"the server holds its maximum of {self.max_sessions} sessions; close another "
                                  "playground tab or wait for idle sessions to end")
        key = secrets.token_urlsafe(16)
        self.entries[key] = entry = Entry(Session(config))
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
    async def wrapper(request: Request) -> Response:
        try:
            return await endpoint(request)
        except (PlaygroundError, ConfigError) as exc:
            return _error(exc)
    return wrapper


def _download(content: bytes | str, filename: str, media_type: str) -> Response:
    return Response(content, media_type=media_type,
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


def origin_allowed(headers, scheme: str) -> bool:
    """A WebSocket may connect when it sends no Origin (not a browser) or its Origin is this server's own:
    ``http(s)://`` + the Host it asked for."""
    origin, host = headers.get("origin"), headers.get("host")
    if origin is None:
        return True
    own = "https" if scheme in ("wss", "https") else "http"
    return host is not None and origin.rstrip("/") == f"{own}://{host}"


def create_app(max_sessions: int = 16, idle_seconds: float = 600.0, cpu_budget: float = 600.0,
               updates_per_second: float = 20.0, allowed_hosts: list[str] | None = None) -> Starlette:
    """The playground app with its limits (see the module docstring). ``allowed_hosts``: the Host names
    accepted (others get 400), which keeps a DNS-rebinding page out of a server on 127.0.0.1; None
    accepts any."""
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
        key, entry = sessions.create(config)
        return JSONResponse({"id": key, "config": config.to_dict(), "snapshot": entry.session.snapshot()},
                            status_code=201)

    @_handled
    async def show(request: Request) -> Response:
        entry = sessions.get(request.path_params["id"])
        return JSONResponse({"config": entry.session.config.to_dict(), "running": entry.running,
                             "snapshot": entry.session.snapshot()})

    @_handled
    async def data(request: Request) -> Response:
        return JSONResponse(sessions.get(request.path_params["id"]).session.data())

    @_handled
    async def step(request: Request) -> Response:
        entry = sessions.get(request.path_params["id"])
        body = await _json(request, {})
        epochs = body.get("epochs", 1) if isinstance(body, dict) else None
        if isinstance(epochs, bool) or not isinstance(epochs, int) or not 1 <= epochs <= MAX_STEP_EPOCHS:
            raise PlaygroundError(422, f"epochs: expected an integer from 1 to {MAX_STEP_EPOCHS}, got {epochs!r}",
                                  "epochs")
        sessions.check_budget(entry)
        await asyncio.to_thread(entry.session.step, epochs)
        return JSONResponse(entry.session.snapshot())

    @_handled
    async def reset(request: Request) -> Response:
        entry = sessions.get(request.path_params["id"])
        body = await _json(request)
        await asyncio.to_thread(entry.session.reset, None if body is None else _config(body))
        return JSONResponse(entry.session.snapshot())

    @_handled
    async def delete(request: Request) -> Response:
        sessions.delete(request.path_params["id"])
        return Response(status_code=204)

    @_handled
    async def export_checkpoint(request: Request) -> Response:
        entry = sessions.get(request.path_params["id"])
        return _download(checkpoint_bytes(entry.session), "playground.pt", "application/octet-stream")

    @_handled
    async def export_script(request: Request) -> Response:
        entry = sessions.get(request.path_params["id"])
        return _download(script_text(entry.session), "playground.py", "text/x-python; charset=utf-8")

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

        async def send_snapshot() -> None:
            async with sending:
                snap = await asyncio.to_thread(session.snapshot, sent["next"])
                sent["next"] = snap["epoch"] + 1
                await ws.send_json({"type": "snapshot", "running": entry.running, **snap})

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
                await asyncio.to_thread(session.advance, period * 0.6)
                entry.last_seen = time.monotonic()
                await send_snapshot()
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
            await asyncio.to_thread(entry.session.step, 1)
        elif action == "reset":
            entry.running = False
            config = message.get("config")
            await asyncio.to_thread(entry.session.reset, None if config is None else _config(config))
        else:
            raise PlaygroundError(400, f"unknown action {action!r}; send run, pause, step or reset", "action")

    routes = [Route("/api/limits", get_limits), Route("/api/validate", validate, methods=["POST"]),
              Route("/api/sessions", create, methods=["POST"]),
              Route("/api/sessions/{id}", show), Route("/api/sessions/{id}", delete, methods=["DELETE"]),
              Route("/api/sessions/{id}/data", data), Route("/api/sessions/{id}/step", step, methods=["POST"]),
              Route("/api/sessions/{id}/reset", reset, methods=["POST"]),
              Route("/api/sessions/{id}/export/checkpoint", export_checkpoint),
              Route("/api/sessions/{id}/export/script", export_script),
              WebSocketRoute("/api/sessions/{id}/ws", stream)]
    middleware = [] if allowed_hosts is None else [Middleware(TrustedHostMiddleware, allowed_hosts=allowed_hosts)]
    app = Starlette(routes=routes, middleware=middleware)
    app.state.sessions = sessions
    return app


__all__ = ["create_app", "SessionManager", "PlaygroundError", "origin_allowed"]
