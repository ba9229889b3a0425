"""One HTTP exchange over the hook session's pooled keep-alive connections.

``requests.Session.request`` re-reads proxy settings from the environment (a scan of every
environment variable, twice), merges settings and cookies, and dispatches hooks on every call.
In a bulk upload — one ``insertCallback`` per contact on ECM — a profile showed that machinery
costing more CPU than the rest of the upload together, and holding the GIL so that concurrent
batches could not overlap (``bench/RESULTS.md``). :class:`PooledTransport` keeps what matters of
requests — the session's adapter and its urllib3 connection pool, TLS settings, proxies, cookies,
``PreparedRequest``/``Response`` and the exception classes callers handle — and sends the prepared
request straight on the pool of the adapter HttpHook mounted (its ``send`` is not called).
"""

from __future__ import annotations

import functools
import threading
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from requests.cookies import extract_cookies_to_jar
from requests.exceptions import (
    ConnectTimeout,
    ContentDecodingError,
    InvalidHeader,
    InvalidURL,
    ProxyError,
    ReadTimeout,
    RetryError,
    SSLError,
)
from requests.models import PreparedRequest
from requests.structures import CaseInsensitiveDict
from requests.utils import check_header_validity, get_encoding_from_headers, get_environ_proxies, select_proxy
from urllib3.exceptions import (
    ClosedPoolError,
    ConnectTimeoutError,
    DecodeError,
    LocationValueError,
    MaxRetryError,
    NewConnectionError,
    ProtocolError,
    ReadTimeoutError,
    ResponseError,
)
from urllib3.exceptions import (
    InvalidHeader as _InvalidHeader,
)
from urllib3.exceptions import (
    ProxyError as _ProxyError,
)
from urllib3.exceptions import (
    SSLError as _SSLError,
)
from urllib3.util import Timeout


def configure_session(session: requests.Session, base_url: str) -> None:
    """Settle once, when the hook's session is built, what requests would re-derive on every call.

    Proxies from the environment (``HTTPS_PROXY``, ``NO_PROXY`` ...) are resolved for the
    connection's URL now, unless the connection names its own; ``trust_env`` is then off, so no call
    re-scans the environment (the ``verify`` extra already wins over ``REQUESTS_CA_BUNDLE``, and
    ``~/.netrc`` is never wanted: every vendor has its own credential).
    """
    if not session.proxies and session.trust_env:
        session.proxies = dict(get_environ_proxies(base_url))
    session.trust_env = False


class PooledTransport:
    """Prepares and sends requests for one session; the hook owns one for its life. Thread-safe."""

    def __init__(self, session: requests.Session) -> None:
        self.session = session
        self._pools: dict[tuple[Any, ...], Any] = {}
        self._lock = threading.Lock()
        self._timeouts: dict[float, Timeout] = {}
        # The session's default headers, validated once (the hook owns the session: they do not change).
        defaults = PreparedRequest()
        defaults.prepare_headers(session.headers)
        self._default_headers: CaseInsensitiveDict = defaults.headers

    def prepare(
        self,
        method: str,
        url: str,
        *,
        params: Any = None,
        json_body: Any = None,
        data: Any = None,
        files: Any = None,
        headers: dict[str, str] | None = None,
    ) -> PreparedRequest:
        """The request as requests would prepare it, with the session's headers and cookies, but
        no auth (the hook applies its credential per attempt) and no hooks."""
        prepared = PreparedRequest()
        prepared.method = method.upper()
        prepared.url = _prepared_url(url) if not params else _prepared_url_with(url, params)
        prepared.headers = self._default_headers.copy()
        for header in (headers or {}).items():
            check_header_validity(header)
            prepared.headers[header[0]] = header[1]
        if self.session.cookies:
            prepared.prepare_cookies(self.session.cookies)
        prepared.prepare_body(data, files, json_body)
        prepared.hooks = {"response": []}
        return prepared

    def send(self, request: PreparedRequest, *, timeout: float, verify: bool | str) -> requests.Response:
        """Send ``request``; its whole answer read. Raises requests' exceptions, as ``Session.send``."""
        proxies = self.session.proxies
        adapter = self.session.get_adapter(request.url or "")
        pool = self._pool(adapter, request, verify, proxies)
        url = adapter.request_url(request, proxies) if proxies else request.path_url
        try:
            raw = pool.urlopen(
                method=request.method,
                url=url,
                body=request.body,
                headers=request.headers,
                redirect=False,
                assert_same_host=False,
                preload_content=True,  # read at once: one buffer, not requests' 10 KB chunk loop
                decode_content=True,
                retries=adapter.max_retries,
                timeout=self._timeout(timeout),
                chunked=not (request.body is None or "Content-Length" in request.headers),
            )
        except Exception as exc:  # urllib3's errors become the requests errors callers handle
            mapped = as_requests_error(exc, request)
            if mapped is exc:
                raise
            raise mapped from exc
        return self._response(adapter, request, raw)

    def _timeout(self, seconds: float) -> Timeout:
        timeout = self._timeouts.get(seconds)
        if timeout is None:
            timeout = self._timeouts[seconds] = Timeout(connect=seconds, read=seconds)
        return timeout

    def _pool(self, adapter: HTTPAdapter, request: PreparedRequest, verify: bool | str, proxies: dict) -> Any:
        # The urllib3 pool per (origin, TLS settings, proxy): looked up once, then reused; its
        # connections are the keep-alive connections every call shares.
        origin = (request.url or "").split("/", 3)[:3]
        key = (tuple(origin), verify, str(self.session.cert), select_proxy(request.url, proxies))
        pool = self._pools.get(key)
        if pool is None:
            with self._lock:
                pool = self._pools.get(key)
                if pool is None:
                    try:
                        pool = adapter.get_connection_with_tls_context(
                            request, verify, proxies=proxies, cert=self.session.cert
                        )
                    except LocationValueError as exc:
                        raise InvalidURL(exc, request=request) from None
                    adapter.cert_verify(pool, request.url, verify, self.session.cert)
                    self._pools[key] = pool
        return pool

    def _response(self, adapter: HTTPAdapter, request: PreparedRequest, raw: Any) -> requests.Response:
        response = requests.Response()
        response.status_code = raw.status
        response.headers = CaseInsensitiveDict(raw.headers)
        response.encoding = get_encoding_from_headers(response.headers)
        response.raw = raw
        response.reason = raw.reason
        response.url = request.url or ""
        response._content = raw.data  # type: ignore[attr-defined]
        response._content_consumed = True  # type: ignore[attr-defined]
        response.request = request
        response.connection = adapter  # type: ignore[attr-defined]
        if "set-cookie" in response.headers:  # the session keeps server cookies, as Session.send does
            extract_cookies_to_jar(response.cookies, request, raw)
            extract_cookies_to_jar(self.session.cookies, request, raw)
        return response

    def close(self) -> None:
        self._pools.clear()


@functools.lru_cache(maxsize=1024)
def _prepared_url(url: str) -> str:
    """``url`` as ``PreparedRequest.prepare_url`` writes it (IDNA host, requoted path): the same few
    endpoint URLs come back on every call, so each is prepared once."""
    prepared = PreparedRequest()
    prepared.prepare_url(url, None)
    return str(prepared.url)


def _prepared_url_with(url: str, params: Any) -> str:
    prepared = PreparedRequest()
    prepared.prepare_url(url, params)
    return str(prepared.url)


def as_requests_error(exc: Exception, request: PreparedRequest) -> Exception:
    """The ``requests`` exception ``HTTPAdapter.send`` raises for a urllib3 error (same mapping),
    so retry and error handling see one vocabulary whichever transport sent the call."""
    if isinstance(exc, (ProtocolError, OSError)):
        return requests.ConnectionError(exc, request=request)
    if isinstance(exc, MaxRetryError):
        reason = exc.reason
        if isinstance(reason, ConnectTimeoutError) and not isinstance(reason, NewConnectionError):
            return ConnectTimeout(exc, request=request)
        if isinstance(reason, ResponseError):
            return RetryError(exc, request=request)
        if isinstance(reason, _ProxyError):
            return ProxyError(exc, request=request)
        if isinstance(reason, _SSLError):
            return SSLError(exc, request=request)
        return requests.ConnectionError(exc, request=request)
    if isinstance(exc, ClosedPoolError):
        return requests.ConnectionError(exc, request=request)
    if isinstance(exc, _ProxyError):
        return ProxyError(exc)
    if isinstance(exc, _SSLError):
        return SSLError(exc, request=request)
    if isinstance(exc, ReadTimeoutError):
        return ReadTimeout(exc, request=request)
    if isinstance(exc, _InvalidHeader):
        return InvalidHeader(exc, request=request)
    if isinstance(exc, DecodeError):  # the body is read here, not later in Response.content
        return ContentDecodingError(exc, request=request)
    return exc
