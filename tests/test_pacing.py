"""Back-off that adapts (uploads/pacing.py): the AIMD limit on its own, the hook's answer listeners,
the sandbox's ``max_in_flight``, and an upload over HTTP against a sandbox that admits two requests
at once. Counts only, never seconds."""

from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from airflow_provider_dialers.hooks.sinch import SinchObiHook
from airflow_provider_dialers.retry_policy import RetryPolicy
from airflow_provider_dialers.uploads.pacing import MIN_SUCCESS_RUN, ConcurrencyLimiter, success_run
from tests.support import first_phones
from tests.test_uploads_fakes import FakeDialer

SINCH_CAMPAIGN = "62718C7889CC44F7B944C1A6F6BE9B7F"
#: Retry-After: 1 is waited 0.05 s here, and a batch refused several times in a row still lands.
DIALER_RETRY_POLICY = RetryPolicy(max_attempts=12, backoff_initial=0.01, backoff_max=0.05, retry_after_cap=0.05)


def successes(limiter: ConcurrencyLimiter, count: int) -> None:
    for _ in range(count):
        limiter.observe(200)


# -- the limit -----------------------------------------------------------------------------------


def test_429_and_503_halve_the_limit_down_to_one() -> None:
    limiter = ConcurrencyLimiter(8)
    assert limiter.limit == 8
    seen = []
    for status in (503, 429, 503, 429):
        limiter.observe(status)
        seen.append(limiter.limit)
        successes(limiter, limiter.ceiling)  # the answers of what was in flight: past the hold-off
    assert seen == [4, 2, 1, 1]
    assert limiter.summary() == {"concurrency_min": 1, "throttled": 4}


def test_one_overload_lowers_the_limit_once() -> None:
    limiter = ConcurrencyLimiter(8)
    seen = []
    for _ in range(16):  # a burst: the requests in flight when it was lowered are refused too
        limiter.observe(503)
        seen.append(limiter.limit)
    # 8 -> 4, then the 8 answers of what was in flight at 8 cannot lower it; 4 -> 2, 4 answers; 2 -> 1
    assert seen == [4] * 9 + [2] * 5 + [1] * 2
    assert limiter.throttled == 16


def test_a_run_of_successes_adds_one_back_up_to_the_ceiling() -> None:
    limiter = ConcurrencyLimiter(4)
    limiter.observe(503)
    successes(limiter, 4)
    limiter.observe(503)
    assert limiter.limit == 1
    successes(limiter, success_run(1) - 1)
    assert limiter.limit == 1  # one short of the run
    limiter.observe(201)
    assert limiter.limit == 2
    successes(limiter, success_run(2) + success_run(3))
    assert limiter.limit == 4
    successes(limiter, 10 * MIN_SUCCESS_RUN)
    assert limiter.limit == 4  # never above max_concurrency
    assert limiter.summary() == {"concurrency_min": 1, "throttled": 2}


def test_a_throttle_starts_the_run_again_and_other_failures_count_for_nothing() -> None:
    limiter = ConcurrencyLimiter(4)
    limiter.observe(429)
    assert limiter.limit == 2
    successes(limiter, success_run(2) - 1)
    for status in (502, 504, 500):  # not an overload signal: neither lowers nor counts as a success
        limiter.observe(status)
    assert limiter.limit == 2
    limiter.observe(503)
    assert limiter.limit == 1
    successes(limiter, success_run(1) - 1)
    assert limiter.limit == 1
    assert success_run(1) == MIN_SUCCESS_RUN and success_run(100) == 200  # two windows' worth when large


def test_without_adaptation_the_limit_stays_and_throttles_are_still_counted() -> None:
    limiter = ConcurrencyLimiter(6, adaptive=False)
    for status in (503, 429, 503):
        limiter.observe(status)
    assert limiter.limit == 6
    assert limiter.summary() == {"concurrency_min": 6, "throttled": 3}


def test_the_limiter_is_thread_safe() -> None:
    limiter = ConcurrencyLimiter(8)
    limits: list[int] = []
    start = threading.Barrier(8)

    def hammer(worker: int) -> None:
        start.wait()
        for index in range(2000):
            limiter.observe(503 if (index + worker) % 97 == 0 else 200)
            limits.append(limiter.limit)

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(hammer, range(8)))
    throttles = sum(1 for worker in range(8) for index in range(2000) if (index + worker) % 97 == 0)
    assert limiter.throttled == throttles  # no lost update
    assert min(limits) >= 1 and max(limits) <= 8
    assert 1 <= limiter.concurrency_min <= min(limits)


def test_changes_are_logged_at_most_once_per_interval(caplog: pytest.LogCaptureFixture) -> None:
    now = [100.0]
    limiter = ConcurrencyLimiter(16, clock=lambda: now[0])
    caplog.set_level(logging.INFO, logger="airflow_provider_dialers.uploads.pacing")
    for _ in range(32):
        limiter.observe(503)  # 8, 4, 2, 1 (each after a hold-off): one line now, the rest later
    assert limiter.limit == 1 and len(caplog.records) == 1
    successes(limiter, 50 * MIN_SUCCESS_RUN)  # back up, many changes within the same instant
    assert len(caplog.records) == 1
    now[0] += 10
    limiter.observe(503)
    assert len(caplog.records) == 2
    assert "32 answers were 429/503 since the last line" in caplog.records[1].getMessage()


class _Listened:
    vendor_name = "toy"

    def __init__(self) -> None:
        self.listeners: list = []

    def add_throttle_listener(self, listener):
        self.listeners.append(listener)
        return lambda: self.listeners.remove(listener)


def test_listening_registers_for_the_block_and_tolerates_dialers_without_listeners(caplog) -> None:
    dialer = _Listened()
    limiter = ConcurrencyLimiter(4)
    caplog.set_level(logging.INFO, logger="airflow_provider_dialers.uploads.pacing")
    with limiter.listening(dialer):
        (listener,) = dialer.listeners
        listener(503)
    assert dialer.listeners == []
    assert limiter.limit == 2 and limiter.label == "toy"
    assert "toy: 1 answers were 429/503 during the upload" in caplog.text
    with ConcurrencyLimiter(4).listening(object()) as plain:  # e.g. the in-memory fakes: heard by no one
        assert plain.limit == 4


# -- the engine keeps no more batches in flight than the limit ---------------------------------------


class _OverloadedFake(FakeDialer):
    """Answers 503 fifteen times while the upload reads what the campaign holds (before any batch)."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.listeners: list = []

    def add_throttle_listener(self, listener):
        self.listeners.append(listener)
        return lambda: self.listeners.remove(listener)

    def iter_contact_states(self, campaign_id):
        for listener in self.listeners:
            for _ in range(15):  # 8 -> 4, then 8 answers held off; 4 -> 2, 4 held off; 2 -> 1
                listener(503)
        return iter(())


def test_after_429_or_503_the_engine_sends_fewer_batches_at_once() -> None:
    from airflow_provider_dialers.uploads import CONTACTS, UploadSettings, run_upload

    rows = [{"phone": f"+1555200{i:04d}"} for i in range(300)]
    dialer = _OverloadedFake(send_delay=0.005)
    result = run_upload(dialer, CONTACTS, rows, UploadSettings(campaign_id="C1", max_concurrency=8))
    assert result["accepted"] == 300 and result["batches"] == 30
    assert (result["throttled"], result["concurrency_min"]) == (15, 1)
    assert dialer.max_in_flight == 1  # no success was heard, so it never went back up
    assert dialer.listeners == []  # unregistered at the end

    fixed = _OverloadedFake(send_delay=0.005)
    result = run_upload(fixed, CONTACTS, rows, UploadSettings(campaign_id="C1", max_concurrency=8,
                                                               adaptive_concurrency=False))
    assert (result["throttled"], result["concurrency_min"]) == (15, 8)


# -- the hook tells its listeners ------------------------------------------------------------------


def test_the_hook_calls_its_listeners_with_every_answer_retries_included(sandbox_client) -> None:
    sandbox_client.add_fault(vendor="sinch", path="/campaigns$", status=503, retry_after=0, count=1)
    heard: list[int] = []
    with SinchObiHook(retry_policy=DIALER_RETRY_POLICY) as hook:
        remove = hook.add_throttle_listener(heard.append)
        hook.list_campaigns()
        assert heard[0] == 503 and heard[1:] and all(status == 200 for status in heard[1:])
        remove()
        count = len(heard)
        hook.list_campaigns()
        assert len(heard) == count


# -- the sandbox admits max_in_flight requests at once -----------------------------------------------


def test_the_sandbox_refuses_requests_beyond_max_in_flight(sandbox, sandbox_client) -> None:
    sandbox_client.configure(max_in_flight=1, latency_ms=400)
    url = f"{sandbox.url}/RI/obi/api/campaigns"
    start = threading.Barrier(4)

    def call(_: int) -> requests.Response:
        start.wait()
        return requests.get(url, timeout=10)

    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(call, range(4)))
    refused = [answer for answer in answers if answer.status_code == 503]
    assert 1 <= len(refused) <= 3  # at least one admitted; the others arrived while it was handled
    assert all(answer.headers["Retry-After"] == "1" for answer in refused)
    logged = sandbox_client.requests(vendor="sinch")
    assert sum(1 for r in logged if r["status"] == 503 and r["fault"] == "busy") == len(refused)
    sandbox_client.configure(max_in_flight=0, latency_ms=0)
    assert requests.get(url, timeout=10).status_code != 503


def test_the_command_line_takes_max_in_flight(monkeypatch) -> None:
    import uvicorn

    from airflow_provider_dialers.sandbox.__main__ import main

    served = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **kwargs: served.update(app=app))
    assert main(["--max-in-flight", "3", "--port", "1"]) == 0
    assert served["app"].core.config.max_in_flight == 3


# -- an upload against a sandbox that admits two requests at once ---------------------------------------


def _upload(sandbox_client, *, adaptive: bool, block: int) -> dict:
    from airflow_provider_dialers.operators import UploadContactsOperator

    sandbox_client.configure(max_in_flight=2, latency_ms=50)
    contacts = [{"external_id": f"p{block}-{i}", "phone": f"+1{300 + block}555{i:04d}"} for i in range(240)]
    return UploadContactsOperator(task_id="upload", dialer_conn_id="sinch_obi_default", campaign_id=SINCH_CAMPAIGN,
                                  contacts=contacts, batch_size=10, max_concurrency=8,
                                  adaptive_concurrency=adaptive).execute({})


def test_an_upload_lowers_its_concurrency_and_lands_every_contact_once(sandbox, sandbox_client,
                                                                      fast_dialer_hooks) -> None:
    before = len(first_phones(sandbox, "sinch", SINCH_CAMPAIGN))
    result = _upload(sandbox_client, adaptive=True, block=1)
    assert (result["total"], result["accepted"], result["rejected"]) == (240, 240, 0)
    phones = first_phones(sandbox, "sinch", SINCH_CAMPAIGN)[before:]
    assert len(phones) == 240 and len(set(phones)) == 240  # every contact exactly once
    assert result["throttled"] > 0
    assert result["concurrency_min"] <= 2
    refused = [r for r in sandbox_client.requests(vendor="sinch") if r["status"] == 503]
    assert len(refused) == result["throttled"]  # the client heard every refusal the server logged


def test_with_adaptation_off_the_concurrency_stays_put(sandbox, sandbox_client, fast_dialer_hooks) -> None:
    result = _upload(sandbox_client, adaptive=False, block=2)
    assert result["accepted"] == 240
    assert result["throttled"] > 0
    assert result["concurrency_min"] == 8
