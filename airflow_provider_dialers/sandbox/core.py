"""The sandbox's shared machinery: configuration, credentials, fault rules, request log, vendors.

Vendor modules subclass :class:`VendorSandbox`; nothing here knows a vendor's API.
"""

from __future__ import annotations

import itertools
import json
import random
import re
import secrets
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar

from fastapi import APIRouter

from airflow_provider_dialers.sandbox.readings import Reading, resolve


@dataclass
class SandboxConfig:
    """Knobs of a sandbox run. All can be changed at run time with ``PUT /_sandbox/config``."""

    seed: int = 7
    #: Contacts each vendor's simulated dialer settles per second (0: only when advanced by hand).
    dial_rate: float = 0.0
    #: ECM ``expires_in`` (seconds) of issued JWTs.
    ecm_token_ttl: float = 36000.0
    #: MaxContact token lifetime (seconds).
    maxcontact_token_ttl: float = 3600.0
    #: Ameyo session inactivity timeout (seconds); the reference says 3 minutes.
    ameyo_session_timeout: float = 180.0
    #: Sinch: require ``x-api-key`` (as cloud gateways do).
    sinch_require_api_key: bool = False
    #: Where the references are silent: every switch's ``first`` or ``second`` reading (readings.py).
    readings_profile: str = "first"
    #: Single switches set on top of the profile, ``{"ecm_page_base": "1"}``.
    readings: dict[str, str] = field(default_factory=dict)
    #: Keep each vendor request's body in the request log (``body``, text), for tests that check what
    #: was sent. Off by default: bodies hold contacts' data and the log keeps 200,000 requests.
    capture_bodies: bool = False
    #: Milliseconds added to every vendor request before it is handled: a dialer across a network
    #: (benchmarks measure uploads at 0 and 20 ms). Requests wait concurrently, as on a real link.
    latency_ms: float = 0.0
    #: Vendor requests handled at once (``latency_ms`` counts as handling time); one beyond it is
    #: refused at once with HTTP 503 and ``Retry-After: 1``, as an overloaded server or its gateway
    #: does. 0: no limit.
    max_in_flight: int = 0


#: Documented default credentials of the sandbox (never use these anywhere real).
DEFAULT_CREDENTIALS: dict[str, dict[str, str]] = {
    "expertflow": {"login": "admin", "password": "ecm-sandbox-pass"},
    "maxcontact": {"login": "api-user", "password": "mc-sandbox-pass"},
    "sinch": {"login": "obi-api", "password": "sinch-sandbox-pass", "api_key": "sinch-sandbox-key"},
    "ameyo": {"login": "customer-manager", "password": "ameyo-sandbox-pass"},
}


@dataclass
class IssuedCredential:
    vendor: str
    subject: str
    issued_at: float
    expires_at: float | None
    idle_timeout: float | None
    last_used: float


class CredentialStore:
    """Tokens, cookies and session ids the sandbox hands out, with expiry and revocation.

    ``history`` keeps every credential ever issued, as ``(vendor, value)``, even after it expired
    or was revoked: secret-hygiene tests search logs and metadata for each one.
    """

    def __init__(self) -> None:
        self._issued: dict[str, IssuedCredential] = {}
        self.history: list[tuple[str, str]] = []
        self.logins: Counter[str] = Counter()
        self.failed_logins: Counter[str] = Counter()
        self.expiries: Counter[str] = Counter()

    def issue(
        self,
        vendor: str,
        subject: str,
        *,
        ttl: float | None = None,
        idle_timeout: float | None = None,
        value: str | None = None,
    ) -> str:
        now = time.monotonic()
        token = value or secrets.token_urlsafe(24)
        self._issued[token] = IssuedCredential(
            vendor, subject, now, now + ttl if ttl else None, idle_timeout, now
        )
        self.history.append((vendor, token))
        self.logins[vendor] += 1
        return token

    def issued(self, vendor: str | None = None) -> list[str]:
        """Every credential value issued so far (of one vendor), live or not, in issue order."""
        return [value for name, value in self.history if vendor in (None, name)]

    def check(self, vendor: str, token: str | None) -> IssuedCredential | None:
        """The live credential for ``token`` (refreshing its idle timer), or None."""
        if not token:
            return None
        cred = self._issued.get(token)
        if cred is None or cred.vendor != vendor:
            return None
        now = time.monotonic()
        if (cred.expires_at is not None and now >= cred.expires_at) or (
            cred.idle_timeout is not None and now - cred.last_used >= cred.idle_timeout
        ):
            del self._issued[token]
            return None
        cred.last_used = now
        return cred

    def revoke(self, token: str) -> bool:
        return self._issued.pop(token, None) is not None

    def expire_all(self, vendor: str | None = None) -> int:
        """Expire every live credential (of one vendor); count one expiry event per vendor hit."""
        doomed = [t for t, c in self._issued.items() if vendor in (None, c.vendor)]
        for name in {self._issued[t].vendor for t in doomed}:
            self.expiries[name] += 1
        for token in doomed:
            del self._issued[token]
        return len(doomed)

    def active(self, vendor: str | None = None) -> int:
        return sum(1 for c in self._issued.values() if vendor in (None, c.vendor))


@dataclass
class FaultRule:
    """An injected fault, applied to the next ``count`` matching requests (None: until removed).

    ``action``: ``status`` answers ``status`` (with ``body``, ``content_type`` and ``retry_after``)
    without processing; ``reset`` aborts the TCP connection (before processing, or after it when
    ``after_processing``: the server acted but the client never hears); ``delay`` holds the
    answer ``delay`` seconds after processing (past a client timeout, the call is processed but
    the client gives up).
    """

    action: str = "status"
    vendor: str | None = None
    path: str | None = None  # regular expression searched in the request path
    method: str | None = None
    status: int = 503
    body: str | None = None
    content_type: str = "application/json"
    retry_after: float | None = None
    delay: float = 0.0
    after_processing: bool = False
    count: int | None = 1
    probability: float = 1.0
    id: int = 0
    hits: int = 0

    ACTIONS: ClassVar[frozenset[str]] = frozenset({"status", "reset", "delay"})

    def matches(self, vendor: str | None, method: str, path: str) -> bool:
        if self.vendor and self.vendor != vendor:
            return False
        if self.method and self.method.upper() != method.upper():
            return False
        if self.path and not re.search(self.path, path):
            return False
        return True


@dataclass
class RequestRecord:
    seq: int
    time: float
    vendor: str | None
    method: str
    path: str
    query: str
    status: int | None = None
    fault: str | None = None
    duration_ms: float = 0.0
    #: The request body as text (undecodable bytes replaced), with ``capture_bodies`` on; else None.
    body: str | None = None


class VendorSandbox:
    """One vendor's simulated API: state, router, dialing step, snapshot.

    Subclasses set ``name`` and ``path_prefix`` and implement :meth:`reset`,
    :meth:`build_router`, :meth:`dial` and :meth:`snapshot`. Handlers are ``async def`` so all
    state changes run on the server's one event loop (no locks needed).
    """

    name: ClassVar[str]
    path_prefix: ClassVar[str]
    #: The silent points of this vendor's reference the simulation can read either way.
    readings: ClassVar[tuple[Reading, ...]] = ()

    def __init__(self, core: SandboxCore) -> None:
        self.core = core
        self.reset()

    @property
    def config(self) -> SandboxConfig:
        return self.core.config

    @property
    def credentials(self) -> CredentialStore:
        return self.core.credentials

    def reading(self, name: str) -> str:
        """The reading this run takes for switch ``name`` (one of this vendor's ``readings``)."""
        return self.core.reading_values()[name]

    @property
    def user(self) -> dict[str, str]:
        return self.core.users[self.name]

    def reset(self) -> None:
        """Back to the seeded initial state: reseed the RNG, then :meth:`seed_state`."""
        self.rng = new_rng(self.config.seed, self.name)
        self.seed_state()

    def seed_state(self) -> None:
        """Build the initial state (a few campaigns/leads/lists a new user can try at once)."""
        raise NotImplementedError

    def build_router(self) -> APIRouter:
        raise NotImplementedError

    def dial(self, contacts: int) -> int:
        """Settle up to ``contacts`` pending contacts of running campaigns; return how many moved."""
        return 0

    def snapshot(self) -> dict[str, Any]:
        """The whole state, JSON-ready, for ``GET /_sandbox/state/<vendor>``."""
        raise NotImplementedError

    def issued_secrets(self) -> list[str]:
        """Every secret this vendor handed out: its credentials (tokens, cookies, session ids) and
        derived secrets kept in a ``refresh_tokens`` list (ECM's login answers carry one)."""
        return [*self.credentials.issued(self.name), *getattr(self, "refresh_tokens", ())]


class SandboxCore:
    """Everything the four vendor simulations share."""

    def __init__(self, config: SandboxConfig | None = None, vendors: list[type[VendorSandbox]] | None = None):
        self.config = config or SandboxConfig()
        self.credentials = CredentialStore()
        self.users = {vendor: dict(creds) for vendor, creds in DEFAULT_CREDENTIALS.items()}
        self.faults: list[FaultRule] = []
        self._fault_ids = itertools.count(1)
        self.requests: deque[RequestRecord] = deque(maxlen=200_000)
        self._request_seq = itertools.count(1)
        self.request_counts: Counter[str] = Counter()
        self.vendors: dict[str, VendorSandbox] = {}
        self._dial_credit: dict[str, float] = {}
        self._fault_rng = random.Random(self.config.seed)
        for vendor_cls in vendors or []:
            self.add_vendor(vendor_cls)

    def add_vendor(self, vendor_cls: type[VendorSandbox]) -> VendorSandbox:
        vendor = vendor_cls(self)
        self.vendors[vendor.name] = vendor
        return vendor

    def all_readings(self) -> list[Reading]:
        """Every switch of the served vendors."""
        return [reading for vendor in self.vendors.values() for reading in vendor.readings]

    def reading_values(self) -> dict[str, str]:
        """Every switch's reading under the current config (ValueError on an unknown switch or choice)."""
        config = self.config
        key = (config.readings_profile, tuple(sorted(config.readings.items())))
        if getattr(self, "_readings_key", None) != key:
            self._reading_values = resolve(self.all_readings(), config.readings_profile, config.readings)
            self._readings_key = key
        return self._reading_values

    def vendor_for_path(self, path: str) -> str | None:
        for vendor in self.vendors.values():
            if path.startswith(vendor.path_prefix):
                return vendor.name
        return None

    # -- faults ---------------------------------------------------------------------------
    def add_fault(self, **spec: Any) -> FaultRule:
        rule = FaultRule(**spec)
        if rule.action not in FaultRule.ACTIONS:
            raise ValueError(f"unknown fault action {rule.action!r}; one of {sorted(FaultRule.ACTIONS)}")
        rule.id = next(self._fault_ids)
        self.faults.append(rule)
        return rule

    def take_fault(self, vendor: str | None, method: str, path: str) -> FaultRule | None:
        """The first rule matching this request that fires now (consuming one of its count)."""
        for rule in self.faults:
            if not rule.matches(vendor, method, path):
                continue
            if rule.probability < 1.0 and self._fault_rng.random() >= rule.probability:
                continue
            rule.hits += 1
            if rule.count is not None:
                rule.count -= 1
                if rule.count <= 0:
                    self.faults.remove(rule)
            return rule
        return None

    # -- request log ------------------------------------------------------------------------
    def record(self, vendor: str | None, method: str, path: str, query: str) -> RequestRecord:
        rec = RequestRecord(next(self._request_seq), time.time(), vendor, method, path, query)
        self.requests.append(rec)
        if vendor:
            self.request_counts[vendor] += 1
        return rec

    def request_log(
        self, vendor: str | None = None, path: str | None = None, since: int = 0
    ) -> list[dict[str, Any]]:
        return [
            asdict(r)
            for r in self.requests
            if r.seq > since and vendor in (None, r.vendor) and (path is None or re.search(path, r.path))
        ]

    # -- dialing ------------------------------------------------------------------------------
    def advance(self, contacts: int, vendor: str | None = None) -> dict[str, int]:
        return {
            name: v.dial(contacts) for name, v in self.vendors.items() if vendor in (None, name)
        }

    def tick(self, seconds: float) -> None:
        """Called by the background clock: settle ``dial_rate`` contacts per second per vendor."""
        if self.config.dial_rate <= 0:
            return
        for name, vendor in self.vendors.items():
            credit = self._dial_credit.get(name, 0.0) + self.config.dial_rate * seconds
            whole = int(credit)
            if whole:
                vendor.dial(whole)
            self._dial_credit[name] = credit - whole

    # -- admin ----------------------------------------------------------------------------------
    def reset(self) -> None:
        self.faults.clear()
        self.requests.clear()
        self.request_counts.clear()
        self.credentials = CredentialStore()
        self._fault_rng = random.Random(self.config.seed)
        for vendor in self.vendors.values():
            vendor.reset()

    def issued_secrets(self) -> dict[str, list[str]]:
        """vendor -> every token, refresh token and session id it issued since the last reset."""
        return {name: vendor.issued_secrets() for name, vendor in self.vendors.items()}

    def stats(self) -> dict[str, Any]:
        return {
            "logins": dict(self.credentials.logins),
            "failed_logins": dict(self.credentials.failed_logins),
            "credential_expiries": dict(self.credentials.expiries),
            "active_credentials": {name: self.credentials.active(name) for name in self.vendors},
            "requests": dict(self.request_counts),
            "faults_pending": len(self.faults),
        }


async def read_json_object(request: Any, refuse: Callable[[str], Exception]) -> dict[str, Any]:
    """A request's JSON object body ({} when empty); ``refuse(reason)`` builds the vendor's error."""
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except ValueError:
        raise refuse("The request body is not valid JSON") from None
    if not isinstance(body, dict):
        raise refuse("The request body must be a JSON object")
    return body


class GrowingIndex:
    """key -> records of a dict that grows at its end (new records are added, none reordered).

    Each lookup first indexes the records added since the last one, so a dedupe check costs O(new)
    instead of a scan of every stored record (a 20,000-contact upload would be quadratic).
    Call :meth:`invalidate` after deleting records. Callers re-check the records they get back.
    """

    def __init__(self, key_of: Callable[[Any], Any]) -> None:
        self._key_of = key_of
        self.invalidate()

    def invalidate(self) -> None:
        self._index: dict[Any, list[Any]] = {}
        self._seen = 0
        self._source: dict | None = None

    def lookup(self, records: dict, key: Any) -> list[Any]:
        if self._source is not records or self._seen > len(records):
            self.invalidate()
            self._source = records
        if len(records) > self._seen:
            new = list(itertools.islice(reversed(records.values()), len(records) - self._seen))
            for record in reversed(new):
                self._index.setdefault(self._key_of(record), []).append(record)
            self._seen = len(records)
        return self._index.get(key, [])


def new_rng(seed: int, vendor: str) -> random.Random:
    """A per-vendor RNG, stable for a seed (independent of PYTHONHASHSEED)."""
    return random.Random(f"{seed}:{vendor}")


def config_dict(config: SandboxConfig) -> dict[str, Any]:
    return asdict(config)


__all__ = [
    "DEFAULT_CREDENTIALS",
    "CredentialStore",
    "FaultRule",
    "SandboxConfig",
    "SandboxCore",
    "VendorSandbox",
    "config_dict",
    "GrowingIndex",
    "new_rng",
    "read_json_object",
]
