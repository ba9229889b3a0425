"""R1. Transient faults during uploads (issue 5).

Per dialer that takes uploads (ExpertFlow ECM, Sinch OBI, Ameyo), 20,000 contacts are uploaded by
``UploadContactsOperator`` while the sandbox answers ~10% of requests with 503 (half with
``Retry-After``), resets ~2% of connections (half before the server acts, half after it acted, so
the client never hears that the contact landed), holds a few answers past the client's timeout
(processed, answer lost), and a background thread expires every live credential every 2 s.

Afterwards the sandbox must hold exactly the 20,000 contacts, each once (0 duplicates, 0 missing);
the operator's accounting must say the same; and the hook must have logged in about once per
credential expiry, not once per call. A CampaignCompletionSensor waiting through the same faults
must complete. The figures are printed in pytest's closing summary ("reliability figures").

Everything is bounded: the sandbox is on 127.0.0.1, every fault rule is probabilistic with the
sandbox's seeded RNG, the hook gives up after ``RetryPolicy.max_attempts``, pytest-timeout applies.
"""

from __future__ import annotations

import re
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Self

import pytest
import requests

from airflow_provider_dialers.hooks.base import DialerHook, RetryPolicy
from airflow_provider_dialers.operators import UploadContactsOperator
from airflow_provider_dialers.sandbox import SandboxClient
from airflow_provider_dialers.sensors import CampaignCompletionSensor

CONTACTS = 20_000
#: Retries fast enough for thousands of faults: Retry-After (1 s from the sandbox) is capped at 0.05 s.
#: Every hook the operators and sensors build retries so (``fast_dialer_hooks``, conftest.py).
DIALER_RETRY_POLICY = RetryPolicy(max_attempts=8, backoff_initial=0.01, backoff_max=0.05, retry_after_cap=0.05)
#: The client's read timeout (connection extra) and the injected delay past it.
CLIENT_TIMEOUT = 1.0
DELAY = 1.5
#: Seconds between two "expire every live credential" calls.
EXPIRE_EVERY = 2.0
#: Delays cost a client timeout each: aim for about this many per run, whatever the request count.
DELAYS_PER_RUN = 5
SINCH_CAMPAIGN = "62718C7889CC44F7B944C1A6F6BE9B7F"  # Active in the sandbox's seed

pytestmark = pytest.mark.usefixtures("fast_dialer_hooks")


@dataclass(frozen=True)
class Dialer:
    vendor: str  # the sandbox's vendor key
    conn_type: str
    campaign_id: str
    batch_size: int
    max_concurrency: int
    #: HTTP requests a fault-free upload of CONTACTS sends (to size the delay probability).
    expected_requests: int
    #: ECM: load uploadBulkCaller files reconciled with getList (else one insertCallback per row).
    bulk: bool = False

    @property
    def name(self) -> str:
        return f"{self.vendor}-bulk" if self.bulk else self.vendor


DIALERS = [
    # ECM: one insertCallback per contact (the capability sends rows one by one), 25 rows a batch.
    Dialer("expertflow", "expertflow_ecm", "1", batch_size=25, max_concurrency=4, expected_requests=CONTACTS),
    # ECM bulk: files of 250 rows, each with a count, the file and about one getList page to reconcile.
    Dialer("expertflow", "expertflow_ecm", "1", batch_size=250, max_concurrency=4,
           expected_requests=3 * CONTACTS // 250, bulk=True),
    Dialer("sinch", "sinch_obi", SINCH_CAMPAIGN, batch_size=100, max_concurrency=4,
           expected_requests=CONTACTS // 100),
    # Ameyo: 50 rows a command (not its 200 maximum) keeps each command well inside the 1 s timeout.
    Dialer("ameyo", "ameyo", "1", batch_size=50, max_concurrency=4, expected_requests=CONTACTS // 50),
]


def phone(n: int) -> str:
    return f"55591{n:05d}"


def external_id(n: int) -> str:
    return f"r1-{n:05d}"


def write_contacts(path: Path, count: int) -> Path:
    """A deterministic CSV: unique phones (10 digits, valid for every vendor) and external ids."""
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write("external_id,phone,timezone\n")
        out.writelines(f"{external_id(n)},{phone(n)},Europe/London\n" for n in range(count))
    return path


def campaign_contacts(client: SandboxClient, vendor: str, campaign_id: str) -> list[str]:
    """One key per contact the sandbox holds for the campaign (the phone, digits only; Sinch:
    ``externalId|phone``): a contact stored twice appears twice."""

    def digits(value: Any) -> str:
        return re.sub(r"\D", "", str(value))

    state = client.state(vendor)
    if vendor == "expertflow":
        return [digits(c["phone1"]) for c in state["callbacks"] if str(c["campaignId"]) == campaign_id]
    if vendor == "sinch":
        return [f"{c['externalId']}|{digits(c['numbers'].split(';')[0])}"
                for c in state["campaigns"][campaign_id]["customers"]]
    return [digits(c["customerData"]["phone1"]) for c in state["customers"] if str(c["campaignId"]) == campaign_id]


def expected_key(vendor: str, n: int) -> str:
    return f"{external_id(n)}|{phone(n)}" if vendor == "sinch" else phone(n)


# -- the faults ------------------------------------------------------------------------------------------


FAULT_KINDS = ("503 with Retry-After", "503", "reset before processing", "reset after processing",
               "delay past the timeout")


def install_faults(client: SandboxClient, vendor: str, delay_probability: float) -> dict[str, int]:
    """The fault mix, on every request to ``vendor`` (logins included) until cleared; rule ids by kind.

    The rules are tried in order and the first that fires wins: ~5% + ~5% 503s, ~1% + ~1% resets,
    and ``delay_probability`` delays. The sandbox draws them from its seeded RNG, one draw per rule
    tried, in the order requests arrive: the n-th request to the vendor always meets the same fate.
    """
    rules = {
        "503 with Retry-After": {"action": "status", "status": 503, "retry_after": 1, "probability": 0.05},
        "503": {"action": "status", "status": 503, "probability": 0.05},
        "reset before processing": {"action": "reset", "probability": 0.01},
        "reset after processing": {"action": "reset", "after_processing": True, "probability": 0.01},
        "delay past the timeout": {"action": "delay", "delay": DELAY, "probability": delay_probability},
    }
    return {kind: client.add_fault(vendor=vendor, count=None, **spec)["id"] for kind, spec in rules.items()}


def fault_hits(client: SandboxClient, rule_ids: dict[str, int]) -> dict[str, int]:
    hits = {rule["id"]: rule["hits"] for rule in client._call("GET", "/faults")}
    return {kind: hits.get(rule_id, 0) for kind, rule_id in rule_ids.items()}


class CredentialExpirer:
    """Expire every live credential of ``vendor`` every ``interval`` seconds, from a thread.

    Has its own admin client (a requests session is not shared between threads). Stopped, and its
    thread joined, on exit, whatever happened inside the ``with`` block.
    """

    def __init__(self, sandbox: Any, vendor: str, interval: float = EXPIRE_EVERY) -> None:
        self.client = SandboxClient(sandbox.url)
        self.vendor = vendor
        self.interval = interval
        self.calls = 0
        self.expired_credentials = 0
        self.errors: list[BaseException] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"r1-expire-{vendor}", daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.expired_credentials += self.client.expire_credentials(self.vendor)
                self.calls += 1
            except requests.RequestException as exc:  # reported by the test, never swallowed
                self.errors.append(exc)
                return

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join(timeout=30)
        assert not self._thread.is_alive(), "the credential expirer did not stop"


class HookCalls:
    """Counts ``DialerHook.request`` calls (one per logical API call, logins included) per vendor:
    every HTTP request beyond these is a retry or a credential-rejection resend."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.counts: Counter[str] = Counter()
        lock = threading.Lock()
        original = DialerHook.request

        def counting(hook: DialerHook, *args: Any, **kwargs: Any):
            with lock:
                self.counts[type(hook).__module__.split(".")[-2]] += 1  # vendors.<vendor>.hook
            return original(hook, *args, **kwargs)

        monkeypatch.setattr(DialerHook, "request", counting)


@pytest.fixture
def hook_calls(monkeypatch) -> HookCalls:
    return HookCalls(monkeypatch)


def _vendor_stats(client: SandboxClient, vendor: str) -> dict[str, int]:
    stats = client.stats()
    return {
        "requests": stats["requests"].get(vendor, 0),
        "logins": stats["logins"].get(vendor, 0),
        "failed_logins": stats["failed_logins"].get(vendor, 0),
        "expiries": stats["credential_expiries"].get(vendor, 0),
    }


# -- R1: 20,000 contacts per dialer through the faults ------------------------------------------------


@pytest.mark.parametrize("dialer", DIALERS, ids=lambda d: d.name)
def test_20000_contacts_land_exactly_once_through_transient_faults(
    sandbox, sandbox_client, make_connection, tmp_path, hook_calls, reliability_report, dialer
):
    vendor = dialer.vendor
    conn_id = make_connection(f"r1_{vendor}", dialer.conn_type, extra={"timeout": CLIENT_TIMEOUT})
    source = write_contacts(tmp_path / "contacts.csv", CONTACTS)
    before = Counter(campaign_contacts(sandbox_client, vendor, dialer.campaign_id))
    assert not any(expected_key(vendor, n) in before for n in range(CONTACTS))  # all new to the dialer
    sandbox_client.clear_requests()
    rule_ids = install_faults(sandbox_client, vendor, min(0.05, DELAYS_PER_RUN / dialer.expected_requests))
    operator = UploadContactsOperator(
        task_id="upload", dialer_conn_id=conn_id, campaign_id=dialer.campaign_id, source=str(source),
        lead_id=1, batch_size=dialer.batch_size, max_concurrency=dialer.max_concurrency, bulk=dialer.bulk,
    )
    started = time.monotonic()
    try:
        with CredentialExpirer(sandbox, vendor) as expirer:
            result = operator.execute({})
    finally:
        elapsed = time.monotonic() - started
        hits = fault_hits(sandbox_client, rule_ids)
        sandbox_client.clear_faults()
    stats = _vendor_stats(sandbox_client, vendor)
    assert not expirer.errors

    # What the dialer holds: every contact once, nothing else added.
    after = Counter(campaign_contacts(sandbox_client, vendor, dialer.campaign_id))
    added = after - before
    expected = {expected_key(vendor, n) for n in range(CONTACTS)}
    duplicates = sum(count - 1 for count in added.values() if count > 1)
    missing = len(expected - set(added))
    unexpected = sum(count for key, count in added.items() if key not in expected)
    reliability_report(
        f"R1 {dialer.name} upload", contacts=CONTACTS, present=len(set(added) & expected), duplicates=duplicates,
        missing=missing, unexpected=unexpected, accepted=result["accepted"], requests=stats["requests"],
        hook_calls=hook_calls.counts[vendor], retries=stats["requests"] - hook_calls.counts[vendor],
        **{f"hits[{kind}]": count for kind, count in hits.items()},
        logins=stats["logins"], client_logins=operator.hook.login_count, expiries=stats["expiries"],
        elapsed_s=round(elapsed, 1),
    )
    assert (duplicates, missing, unexpected) == (0, 0, 0)
    assert sum(added.values()) == CONTACTS

    # The operator's accounting matches the dialer.
    counts = {k: result[k] for k in ("total", "accepted", "rejected", "duplicates", "skipped_dnc", "skipped_window")}
    assert counts == {"total": CONTACTS, "accepted": CONTACTS, "rejected": 0, "duplicates": 0, "skipped_dnc": 0,
                      "skipped_window": 0}
    assert result["sent"] == CONTACTS and result["first_rejects"] == [] and result["rejects_path"] is None

    # Every kind of fault was met (the sandbox's seeded RNG makes this the same on every run).
    assert all(hits[kind] > 0 for kind in FAULT_KINDS), hits
    assert stats["requests"] > hook_calls.counts[vendor]  # so retries did happen

    # One login per credential lifetime, not one per call.
    assert stats["failed_logins"] == 0
    if vendor == "sinch":  # HTTP Basic: no login call (the credential is built locally), nothing to expire
        assert (stats["logins"], stats["expiries"]) == (0, 0) and operator.hook.login_count <= 1
    else:
        assert stats["expiries"] >= 1 and expirer.calls >= 1
        # The client logged in once, then once per expiry that caught it holding a credential.
        assert 1 <= operator.hook.login_count <= stats["expiries"] + 1
        # The server also counts logins whose answer was lost (reset after processing, delay).
        lost_answers = hits["reset after processing"] + hits["delay past the timeout"]
        assert operator.hook.login_count <= stats["logins"] <= stats["expiries"] + 1 + lost_answers
        assert stats["logins"] * 10 < hook_calls.counts[vendor]  # far fewer logins than calls


# -- R1: a sensor waiting through the same faults ----------------------------------------------------------

SENSOR_CONTACTS = 100


@pytest.mark.parametrize("dialer", [d for d in DIALERS if d.vendor in ("expertflow", "sinch") and not d.bulk],
                         ids=lambda d: d.vendor)
def test_campaign_completion_sensor_completes_through_the_same_faults(
    sandbox, sandbox_client, make_connection, tmp_path, hook_calls, reliability_report, dialer
):
    vendor = dialer.vendor
    conn_id = make_connection(f"r1_{vendor}", dialer.conn_type, extra={"timeout": CLIENT_TIMEOUT})
    source = write_contacts(tmp_path / "contacts.csv", SENSOR_CONTACTS)
    before = len(campaign_contacts(sandbox_client, vendor, dialer.campaign_id))
    sandbox_client.clear_requests()
    # The same mix; the delay probability of the big upload's scale would never fire on ~200 requests.
    rule_ids = install_faults(sandbox_client, vendor, 0.02)
    started = time.monotonic()
    try:
        with CredentialExpirer(sandbox, vendor):
            uploaded = UploadContactsOperator(
                task_id="upload", dialer_conn_id=conn_id, campaign_id=dialer.campaign_id, source=str(source),
                batch_size=10, max_concurrency=2,
            ).execute({})
            assert uploaded["accepted"] == SENSOR_CONTACTS
            sandbox_client.configure(dial_rate=100)  # the dialer works through the campaign meanwhile
            sensor = CampaignCompletionSensor(
                task_id="wait", dialer_conn_id=conn_id, campaign_id=dialer.campaign_id, mode="poke",
                deferrable=False, poke_interval=0.2, timeout=120,
                retry_policy={"max_attempts": 8, "backoff_initial": 0.01, "backoff_max": 0.05,
                              "retry_after_cap": 0.05},
            )
            progress = sensor.execute({})
    finally:
        elapsed = time.monotonic() - started
        sandbox_client.configure(dial_rate=0)
        hits = fault_hits(sandbox_client, rule_ids)
        sandbox_client.clear_faults()
    stats = _vendor_stats(sandbox_client, vendor)
    reliability_report(
        f"R1 {vendor} sensor", contacts=before + SENSOR_CONTACTS, complete=progress["complete"],
        pending=progress["pending"], requests=stats["requests"], retries=stats["requests"] - hook_calls.counts[vendor],
        **{f"hits[{kind}]": count for kind, count in hits.items()},
        logins=stats["logins"], expiries=stats["expiries"], elapsed_s=round(elapsed, 1),
    )
    assert progress["complete"] is True and progress["pending"] == 0
    assert progress["total"] == before + SENSOR_CONTACTS
    assert sum(progress["outcomes"].values()) == before + SENSOR_CONTACTS
    assert stats["requests"] > hook_calls.counts[vendor]  # faults were met and retried through
