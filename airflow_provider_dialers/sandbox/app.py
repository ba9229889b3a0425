"""The sandbox's ASGI application: the four vendor APIs, fault injection, request log, admin API."""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import json
import logging
import os
import socket
import struct
import time
from collections.abc import AsyncIterator
from dataclasses import asdict, fields
from typing import Any

from fastapi import APIRouter, FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse

from airflow_provider_dialers.sandbox.core import FaultRule, SandboxConfig, SandboxCore, VendorSandbox

ADMIN_PREFIX = "/_sandbox"
TICK_SECONDS = 0.1
#: The answer to a request beyond ``max_in_flight``: 503 with ``Retry-After: 1`` (the reading chosen:
#: none of the four references documents an overload answer; 503 is what gateways send).
BUSY = FaultRule(status=503, retry_after=1, body='{"error":"server busy: too many requests at once"}')


def default_vendors() -> list[type[VendorSandbox]]:
    """The vendor simulations to serve: all four, or those named in ``DIALER_SANDBOX_VENDORS``.

    Imported here, lazily, so the core stays vendor-neutral and DAG parsing never loads FastAPI.
    """
    modules = {
        "expertflow": ("expertflow", "ExpertflowSandbox"),
        "maxcontact": ("maxcontact", "MaxContactSandbox"),
        "sinch": ("sinch", "SinchSandbox"),
        "ameyo": ("ameyo", "AmeyoSandbox"),
    }
    wanted = [v.strip() for v in os.environ.get("DIALER_SANDBOX_VENDORS", "").split(",") if v.strip()]
    unknown = set(wanted) - set(modules)
    if unknown:
        raise ValueError(f"DIALER_SANDBOX_VENDORS names unknown vendors {sorted(unknown)}; known: {sorted(modules)}")
    classes = []
    for key in wanted or modules:
        module_name, class_name = modules[key]
        module = importlib.import_module(f"airflow_provider_dialers.sandbox.{module_name}")
        classes.append(getattr(module, class_name))
    return classes


def _abort_connection(send: Any) -> bool:
    """Reset the client's TCP connection (RST, not a clean close). False if the server hides it."""
    transport = getattr(getattr(send, "__self__", None), "transport", None)
    if transport is None:
        return False
    sock = transport.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()
    return True


class FaultAndLogMiddleware:
    """Pure ASGI middleware: records every vendor request and applies matching fault rules.

    It must be the outermost layer: it reaches the server's transport through ``send`` to reset
    connections for real.
    """

    def __init__(self, app: Any, core: SandboxCore) -> None:
        self.app = app
        self.core = core
        self.in_flight = 0  # vendor requests admitted and not yet answered (max_in_flight); event loop only

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["path"].startswith(ADMIN_PREFIX):
            await self.app(scope, receive, send)
            return
        core = self.core
        path, method = scope["path"], scope["method"]
        vendor = core.vendor_for_path(path)
        record = core.record(vendor, method, path, scope.get("query_string", b"").decode("latin-1"))
        started = time.perf_counter()
        if core.config.capture_bodies:  # read before any fault answers: what was sent is what counts
            receive = await self._captured(receive, record)
        raw_send = send

        async def logging_send(message: dict) -> None:
            if message["type"] == "http.response.start":
                record.status = message["status"]
            await raw_send(message)

        # Admitted before the latency, which counts as handling time (else the event loop, handling one
        # request at a time, would never hold two); a refused request still pays the round trip.
        admitted = self._admit(core.config.max_in_flight)
        try:
            if core.config.latency_ms > 0:
                await asyncio.sleep(core.config.latency_ms / 1000)
            if admitted is False:
                record.fault = "busy"
                await self._answer_status(BUSY, logging_send)
                return
            rule = core.take_fault(vendor, method, path)
            if rule is None:
                await self.app(scope, receive, logging_send)
                return
            record.fault = rule.action
            if rule.action == "status":
                await self._answer_status(rule, logging_send)
            elif rule.action == "reset" and not rule.after_processing:
                if not _abort_connection(raw_send):
                    await self._answer_status(FaultRule(status=502, body='{"error":"reset unavailable"}'), logging_send)
            else:
                await self.app(scope, receive, self._faulty_send(rule, raw_send, record))
        finally:
            if admitted:
                self.in_flight -= 1
            record.duration_ms = round((time.perf_counter() - started) * 1000, 2)

    def _admit(self, limit: int) -> bool | None:
        """Count one more request in flight: True; refuse it (``limit`` reached): False; no limit: None.

        :param limit: ``max_in_flight`` (0: no limit).
        """
        if limit <= 0:
            return None
        if self.in_flight >= limit:
            return False
        self.in_flight += 1
        return True

    @staticmethod
    async def _captured(receive: Any, record: Any) -> Any:
        """Read the whole request body into ``record.body``; a ``receive`` that hands it on unchanged."""
        messages: list[dict] = []
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request" or not message.get("more_body"):
                break
        record.body = b"".join(m.get("body", b"") for m in messages).decode("utf-8", errors="replace")

        async def replay() -> dict:
            return messages.pop(0) if messages else await receive()

        return replay

    @staticmethod
    async def _answer_status(rule: FaultRule, send: Any) -> None:
        body = (rule.body if rule.body is not None else json.dumps({"error": "injected fault", "status": rule.status}))
        headers = [(b"content-type", rule.content_type.encode()), (b"content-length", str(len(body.encode())).encode())]
        if rule.retry_after is not None:
            headers.append((b"retry-after", str(int(rule.retry_after)).encode()))
        await send({"type": "http.response.start", "status": rule.status, "headers": headers})
        await send({"type": "http.response.body", "body": body.encode()})

    @staticmethod
    def _faulty_send(rule: FaultRule, raw_send: Any, record: Any) -> Any:
        """A ``send`` that delays the processed answer, or resets instead of answering."""

        async def send(message: dict) -> None:
            if message["type"] == "http.response.start":
                if rule.action == "reset":
                    record.status = None
                    _abort_connection(raw_send)
                    return
                if rule.delay:
                    await asyncio.sleep(rule.delay)
                record.status = message["status"]
            elif rule.action == "reset":
                return
            await raw_send(message)

        return send


def _admin_router(core: SandboxCore) -> APIRouter:
    router = APIRouter(prefix=ADMIN_PREFIX, tags=["sandbox admin"])

    @router.get("/health")
    async def health() -> dict[str, Any]:
        return {"ok": True, "vendors": sorted(core.vendors)}

    @router.get("/config")
    async def get_config() -> dict[str, Any]:
        return asdict(core.config)

    @router.put("/config")
    async def put_config(changes: dict[str, Any]) -> dict[str, Any]:
        known = {f.name for f in fields(SandboxConfig)}
        unknown = set(changes) - known
        if unknown:
            raise HTTPException(400, f"unknown config keys: {sorted(unknown)}")
        previous = {key: getattr(core.config, key) for key in changes}
        for key, value in changes.items():
            setattr(core.config, key, value)
        try:
            core.reading_values()  # a profile or switch that does not exist is refused, not half-applied
        except ValueError as exc:
            for key, value in previous.items():
                setattr(core.config, key, value)
            raise HTTPException(400, str(exc)) from None
        return asdict(core.config)

    @router.get("/readings")
    async def readings() -> list[dict[str, Any]]:
        """Every switch: its choices, the one this run takes, where it applies, the reference's words."""
        values = core.reading_values()
        return [{**asdict(reading), "value": values[reading.name]} for reading in core.all_readings()]

    @router.get("/state")
    async def state_all() -> dict[str, Any]:
        return {name: vendor.snapshot() for name, vendor in core.vendors.items()}

    @router.get("/state/{vendor}")
    async def state(vendor: str) -> dict[str, Any]:
        if vendor not in core.vendors:
            raise HTTPException(404, f"unknown vendor {vendor!r}")
        return core.vendors[vendor].snapshot()

    @router.get("/stats")
    async def stats() -> dict[str, Any]:
        return core.stats()

    @router.get("/requests")
    async def requests_log(vendor: str | None = None, path: str | None = None, since: int = 0) -> list[dict]:
        return core.request_log(vendor, path, since)

    @router.delete("/requests")
    async def clear_requests() -> dict[str, Any]:
        core.requests.clear()
        core.request_counts.clear()
        return {"cleared": True}

    @router.get("/faults")
    async def list_faults() -> list[dict]:
        return [asdict(rule) for rule in core.faults]

    @router.post("/faults")
    async def add_fault(spec: dict[str, Any]) -> dict[str, Any]:
        try:
            rule = core.add_fault(**spec)
        except (TypeError, ValueError) as exc:
            raise HTTPException(400, str(exc)) from None
        return asdict(rule)

    @router.delete("/faults")
    async def clear_faults() -> dict[str, Any]:
        removed = len(core.faults)
        core.faults.clear()
        return {"removed": removed}

    @router.post("/expire-credentials")
    async def expire(vendor: str | None = None) -> dict[str, Any]:
        return {"expired": core.credentials.expire_all(vendor)}

    @router.post("/advance")
    async def advance(contacts: int = 1_000_000, vendor: str | None = None) -> dict[str, int]:
        return core.advance(contacts, vendor)

    @router.post("/reset")
    async def reset() -> dict[str, Any]:
        core.reset()
        return {"reset": True}

    return router


class _InjectedResetNoise(logging.Filter):
    """uvicorn reports an injected reset as an app error; it is the fault we asked for."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "without starting response" not in record.getMessage()


def create_app(config: SandboxConfig | None = None, vendors: list[type[VendorSandbox]] | None = None) -> Any:
    """Build the sandbox ASGI app. ``app.core`` is the :class:`SandboxCore` (for tests)."""
    logging.getLogger("uvicorn.error").addFilter(_InjectedResetNoise())
    core = SandboxCore(config, vendors if vendors is not None else default_vendors())
    core.reading_values()  # refuse an unknown readings profile, switch or choice at start

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        async def clock() -> None:
            last = time.monotonic()
            while True:
                await asyncio.sleep(TICK_SECONDS)
                now = time.monotonic()
                core.tick(now - last)
                last = now

        task = asyncio.create_task(clock())
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    api = FastAPI(title="airflow-provider-dialers sandbox", lifespan=lifespan, docs_url=f"{ADMIN_PREFIX}/docs",
                  openapi_url=f"{ADMIN_PREFIX}/openapi.json", redoc_url=None)
    api.state.core = core
    api.include_router(_admin_router(core))
    for vendor in core.vendors.values():
        api.include_router(vendor.build_router())

    @api.exception_handler(Exception)
    async def unexpected(_: Request, exc: Exception) -> JSONResponse:  # keep the server up on a bug
        return JSONResponse({"error": f"sandbox internal error: {type(exc).__name__}: {exc}"}, status_code=500)

    app = FaultAndLogMiddleware(api, core)
    app.state = api.state  # type: ignore[attr-defined]
    app.core = core  # type: ignore[attr-defined]
    return app
