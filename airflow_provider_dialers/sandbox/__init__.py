"""A local sandbox of the four dialer APIs, for tests, the demo and DAG development.

Start it from a shell::

    python -m airflow_provider_dialers.sandbox --port 8899

or from Python (tests use this)::

    from airflow_provider_dialers.sandbox import Sandbox

    with Sandbox() as sandbox:          # serves on a free localhost port, in a thread
        os.environ.update(sandbox.connection_env())
        ...
        sandbox.client.add_fault(vendor="sinch", status=503, count=2)

FastAPI and uvicorn are imported only when a sandbox starts, never at DAG parse time.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
import warnings
from typing import Any

import requests

from airflow_provider_dialers.sandbox.core import DEFAULT_CREDENTIALS, SandboxConfig

#: conn id -> (conn type, vendor key in DEFAULT_CREDENTIALS, extras)
SANDBOX_CONNECTIONS: dict[str, tuple[str, str, dict[str, Any]]] = {
    "expertflow_ecm_default": ("expertflow_ecm", "expertflow", {}),  # 13.3 is the default release
    "expertflow_ecm_132": ("expertflow_ecm", "expertflow", {"api_version": "13.2"}),
    "maxcontact_default": ("maxcontact", "maxcontact", {}),
    "sinch_obi_default": ("sinch_obi", "sinch", {"api_key": DEFAULT_CREDENTIALS["sinch"]["api_key"]}),
    "ameyo_default": ("ameyo", "ameyo", {"terminal": "127.0.0.1", "client_type": "CustomerManagerApi"}),
}


def connection_env(base_url: str, *, timeout: float = 10.0, verify: str | None = None) -> dict[str, str]:
    """``AIRFLOW_CONN_*`` variables (JSON form) pointing every default connection at a sandbox.

    ``verify``: a CA bundle path, set as every connection's ``verify`` extra (HTTPS sandboxes).
    """
    tls_extra = {"verify": verify} if verify else {}
    env = {}
    for conn_id, (conn_type, vendor, extra) in SANDBOX_CONNECTIONS.items():
        creds = DEFAULT_CREDENTIALS[vendor]
        env[f"AIRFLOW_CONN_{conn_id.upper()}"] = json.dumps(
            {
                "conn_type": conn_type,
                "host": base_url,
                "login": creds["login"],
                "password": creds["password"],
                "extra": {**extra, "timeout": timeout, **tls_extra},
            }
        )
    return env


class SandboxClient:
    """The sandbox's admin API over HTTP: state, request log, faults, credential expiry, dialing."""

    def __init__(self, base_url: str, *, verify: bool | str = True) -> None:
        self.base_url = base_url.rstrip("/")
        self.http = requests.Session()
        self.http.verify = verify  # a CA bundle path for an HTTPS sandbox with a private CA

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.http.request(method, f"{self.base_url}/_sandbox{path}", timeout=30, **kwargs)
        response.raise_for_status()
        return response.json()

    def health(self) -> dict[str, Any]:
        return self._call("GET", "/health")

    def state(self, vendor: str | None = None) -> dict[str, Any]:
        return self._call("GET", f"/state/{vendor}" if vendor else "/state")

    def stats(self) -> dict[str, Any]:
        return self._call("GET", "/stats")

    def requests(self, vendor: str | None = None, path: str | None = None, since: int = 0) -> list[dict]:
        params = {k: v for k, v in {"vendor": vendor, "path": path, "since": since}.items() if v}
        return self._call("GET", "/requests", params=params)

    def clear_requests(self) -> None:
        self._call("DELETE", "/requests")

    def add_fault(self, **spec: Any) -> dict[str, Any]:
        """Inject a fault; see :class:`~airflow_provider_dialers.sandbox.core.FaultRule`."""
        return self._call("POST", "/faults", json=spec)

    def clear_faults(self) -> None:
        self._call("DELETE", "/faults")

    def expire_credentials(self, vendor: str | None = None) -> int:
        return self._call("POST", "/expire-credentials", params={"vendor": vendor} if vendor else {})["expired"]

    def advance(self, contacts: int = 1_000_000, vendor: str | None = None) -> dict[str, int]:
        params: dict[str, Any] = {"contacts": contacts}
        if vendor:
            params["vendor"] = vendor
        return self._call("POST", "/advance", params=params)

    def readings(self) -> list[dict[str, Any]]:
        """Every reading switch with its choices and the value this run takes."""
        return self._call("GET", "/readings")

    def configure(self, **changes: Any) -> dict[str, Any]:
        return self._call("PUT", "/config", json=changes)

    def reset(self) -> None:
        self._call("POST", "/reset")


def _free_socket(host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(512)
    return sock


class Sandbox:
    """Run the sandbox on localhost: in a background thread (default) or a child process.

    :param port: 0 picks a free port.
    :param in_process: True serves from a thread of this process (tests can reach
        ``sandbox.core`` directly); False starts ``python -m airflow_provider_dialers.sandbox``.
    :param tls: ``(certfile, keyfile)`` (PEM) to serve HTTPS instead of HTTP (in-process only).
    :param tls_ca: the CA bundle that signed ``certfile``: the admin client and
        :meth:`connection_env` use it to verify the server.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        config: SandboxConfig | None = None,
        *,
        in_process: bool = True,
        vendors: list[Any] | None = None,
        tls: tuple[str, str] | None = None,
        tls_ca: str | None = None,
    ) -> None:
        if tls and not in_process:
            raise ValueError("tls is only supported for an in-process sandbox")
        self.tls = tls
        self.tls_ca = tls_ca
        self.host = host
        self.port = port
        self.config = config or SandboxConfig()
        self.in_process = in_process
        self.vendors = vendors  # VendorSandbox classes (in-process only); None: all four
        self._server: Any = None
        self._thread: threading.Thread | None = None
        self._process: subprocess.Popen | None = None
        self.app: Any = None

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://{self.host}:{self.port}"

    @property
    def client(self) -> SandboxClient:
        return SandboxClient(self.url, verify=self.tls_ca or True)

    @property
    def core(self) -> Any:
        if self.app is None:
            raise RuntimeError("core is only reachable for an in-process sandbox")
        return self.app.core

    def connection_env(self, *, timeout: float = 10.0) -> dict[str, str]:
        return connection_env(self.url, timeout=timeout, verify=self.tls_ca if self.tls else None)

    def start(self, ready_timeout: float = 30.0) -> Sandbox:
        if self.in_process:
            import uvicorn

            from airflow_provider_dialers.sandbox.app import create_app

            sock = _free_socket(self.host, self.port)
            self.port = sock.getsockname()[1]
            self.app = create_app(self.config, self.vendors)
            tls = {"ssl_certfile": self.tls[0], "ssl_keyfile": self.tls[1]} if self.tls else {}
            config = uvicorn.Config(self.app, log_level="warning", access_log=False, timeout_keep_alive=30, **tls)
            self._server = uvicorn.Server(config)
            self._thread = threading.Thread(
                target=self._server.run, kwargs={"sockets": [sock]}, name="dialer-sandbox", daemon=True
            )
            self._thread.start()
        else:
            if self.port == 0:
                probe = _free_socket(self.host, 0)
                self.port = probe.getsockname()[1]
                probe.close()
            args = [sys.executable, "-m", "airflow_provider_dialers.sandbox", "--host", self.host,
                    "--port", str(self.port), "--seed", str(self.config.seed),
                    "--dial-rate", str(self.config.dial_rate)]
            self._process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self._wait_ready(ready_timeout)
        return self

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process is not None and self._process.poll() is not None:
                err = self._process.stderr.read().decode(errors="replace") if self._process.stderr else ""
                raise RuntimeError(f"sandbox exited during start-up: {err[-2000:]}")
            try:
                # An HTTPS sandbox without a named CA: the probe only checks that it answers.
                verify = (self.tls_ca or False) if self.tls else True
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    requests.get(f"{self.url}/_sandbox/health", timeout=1, verify=verify).raise_for_status()
                return
            except requests.RequestException:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"sandbox did not answer on {self.url} within {timeout}s")

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
            if self._thread is not None:
                self._thread.join(timeout=10)
            self._server = None
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
            self._process = None

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, *exc_info: Any) -> None:
        self.stop()


def env_with_sandbox(base_url: str) -> dict[str, str]:
    """``os.environ`` plus the sandbox connections (for child processes such as ``airflow dags test``)."""
    return {**os.environ, **connection_env(base_url)}


__all__ = ["DEFAULT_CREDENTIALS", "SANDBOX_CONNECTIONS", "Sandbox", "SandboxClient", "SandboxConfig", "connection_env"]
