"""The leanest HTTP client we could write: it measures what the sandbox itself can serve.

Requests are built as raw HTTP/1.1 bytes before the clock starts; an asyncio loop then keeps
``connections`` keep-alive connections busy, each writing its next request as soon as the last
answer is read (status line and ``Content-Length`` only). Nothing is parsed, validated or mapped,
so the client costs a few microseconds per request and the figure is the server's capacity.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit


def raw_request(
    method: str,
    path: str,
    *,
    headers: Mapping[str, str] | None = None,
    json_body: Any = None,
    form: Mapping[str, str] | None = None,
) -> bytes:
    """One HTTP/1.1 request, ready to write to a socket."""
    body = b""
    all_headers = {"Host": "localhost", "Connection": "keep-alive", **(headers or {})}
    if json_body is not None:
        body = json.dumps(json_body, separators=(",", ":")).encode()
        all_headers["Content-Type"] = "application/json"
    elif form is not None:
        body = urlencode(form).encode()
        all_headers["Content-Type"] = "application/x-www-form-urlencoded"
    if body or method in ("POST", "PUT"):
        all_headers["Content-Length"] = str(len(body))
    head = f"{method} {path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in all_headers.items())
    return head.encode("latin-1") + b"\r\n" + body


@dataclass
class LeanRun:
    """What one lean run did: requests answered, seconds taken, and the answers' statuses."""

    requests: int
    seconds: float
    statuses: dict[int, int] = field(default_factory=dict)

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def ok(self) -> bool:
        return all(200 <= status < 300 for status in self.statuses)


async def _worker(host: str, port: int, queue: list[bytes], statuses: dict[int, int]) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        while queue:
            writer.write(queue.pop())
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head[9:12])
            statuses[status] = statuses.get(status, 0) + 1
            length = 0
            for line in head.split(b"\r\n"):
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            if length:
                await reader.readexactly(length)
    finally:
        writer.close()


async def _run(base_url: str, requests: list[bytes], connections: int) -> LeanRun:
    parts = urlsplit(base_url)
    queue = list(reversed(requests))  # pop() from the end keeps the given order
    statuses: dict[int, int] = {}
    started = time.perf_counter()
    await asyncio.gather(*(_worker(parts.hostname or "127.0.0.1", parts.port or 80, queue, statuses)
                           for _ in range(connections)))
    return LeanRun(len(requests), time.perf_counter() - started, statuses)


def send_all(base_url: str, requests: Iterable[bytes], *, connections: int = 8) -> LeanRun:
    """Send every request over ``connections`` keep-alive connections; how long it took."""
    return asyncio.run(_run(base_url, list(requests), connections))
