"""UploadContactsOperator and AddCallbacksOperator: parameters, hook lifecycle, XCom, and one real
upload over HTTP to the Sinch sandbox."""

from __future__ import annotations

import pytest

from airflow_provider_dialers.hooks.base import DialerNotSupportedError
from airflow_provider_dialers.operators.upload import AddCallbacksOperator, UploadContactsOperator
from tests.test_uploads_fakes import DictStateStore, FakeDialer, NoUploadDialer

# Every sandbox test here runs under each readings profile (the references' silent points read
# one way, then the other: docs/readings.md).
pytestmark = pytest.mark.readings_profiles

SINCH_CAMPAIGN = "62718C7889CC44F7B944C1A6F6BE9B7F"


@pytest.fixture
def use_dialer(monkeypatch):
    """Make every dialer_conn_id resolve to the given in-memory dialer."""

    def install(dialer):
        monkeypatch.setattr("airflow_provider_dialers.hooks.get_dialer_hook", lambda conn_id: dialer)
        return dialer

    return install


def test_upload_contacts_operator_returns_the_result_and_closes_the_hook(use_dialer):
    dialer = use_dialer(FakeDialer())
    operator = UploadContactsOperator(
        task_id="upload",
        dialer_conn_id="any",
        campaign_id=42,
        lead_id="7",
        on_duplicate="update",
        attribute_map={"name": "businessParam1"},
        contacts=[{"external_id": "c1", "phone": "5551230001", "name": "Ann"}, {"phone": "5551230999"}],
        max_rejected_ratio=0.5,
    )
    result = operator.execute({"task_state_store": DictStateStore()})
    assert {k: result[k] for k in ("campaign_id", "total", "accepted", "rejected")} == {
        "campaign_id": "42",
        "total": 2,
        "accepted": 1,
        "rejected": 1,
    }
    assert dialer.stored["c1"][0] == "42"  # campaign ids reach capabilities as text
    options = dialer.options_seen[0]
    assert (options.lead_id, options.on_duplicate, dict(options.attribute_map)) == (
        7,
        "update",
        {"name": "businessParam1"},
    )
    assert dialer.closed


def test_contacts_rendered_as_json_text_are_accepted(use_dialer):
    use_dialer(FakeDialer())
    operator = UploadContactsOperator(
        task_id="upload", dialer_conn_id="any", campaign_id="C1", contacts='[{"phone": "5551230001"}]'
    )
    assert operator.execute({})["accepted"] == 1


def test_add_callbacks_operator_schedules_callbacks_from_a_file(use_dialer, tmp_path):
    dialer = use_dialer(FakeDialer())
    source = tmp_path / "callbacks.csv"
    source.write_text("phone,timezone,callback_at,agent\n5551230001,Europe/Paris,2031-05-05 10:00,agent7\n")
    result = AddCallbacksOperator(
        task_id="cb",
        dialer_conn_id="any",
        campaign_id="C1",
        source=str(source),
        calling_window=("09:00", "18:00"),
    ).execute({})
    assert result["accepted"] == 1
    ((_, _, payload),) = dialer.stored.values()
    assert (payload["callback_at"], payload["agent"]) == ("2031-05-05T10:00:00+02:00", "agent7")


def test_an_unsupported_vendor_fails_with_the_clear_error_and_the_hook_is_closed(use_dialer):
    dialer = use_dialer(NoUploadDialer())
    operator = AddCallbacksOperator(
        task_id="cb",
        dialer_conn_id="any",
        campaign_id="C1",
        callbacks=[{"phone": "5551230001", "callback_at": "2031-01-01T10:00:00Z"}],
    )
    with pytest.raises(DialerNotSupportedError, match="NoUploadDial: cannot schedule callbacks"):
        operator.execute({})
    assert dialer.closed


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "exactly one of contacts"),
        ({"contacts": [], "source": "x.csv"}, "exactly one of contacts"),
        ({"contacts": [], "on_duplicate": "replace"}, "on_duplicate"),
        ({"contacts": [], "max_rejected_ratio": 2}, "max_rejected_ratio"),
    ],
)
def test_invalid_parameters_are_refused_when_the_dag_is_parsed(kwargs, message):
    with pytest.raises(ValueError, match=message):
        UploadContactsOperator(task_id="upload", dialer_conn_id="any", campaign_id="C1", **kwargs)


def test_ids_sources_paths_maps_and_the_window_are_templated():
    fields = set(UploadContactsOperator.template_fields)
    assert {
        "dialer_conn_id",
        "campaign_id",
        "contacts",
        "source",
        "lead_id",
        "field_map",
        "calling_window",
        "dnc_source",
        "rejects_path",
        "attribute_map",
    } <= fields
    assert (
        "callbacks" in AddCallbacksOperator.template_fields
        and "contacts" not in AddCallbacksOperator.template_fields
    )


@pytest.mark.usefixtures("fast_dialer_hooks")
def test_a_csv_lands_in_the_sinch_sandbox_through_the_operator(sandbox, tmp_path):
    source = tmp_path / "leads.csv"
    source.write_text(
        "external_id,phone1,phone2,timezone,Name\n"
        "crm-1,5551230001,5551230002,America/Chicago,Ann\n"
        "crm-2,5551230003,,America/Chicago,Bob\n"
        "crm-3,5551230004,,,Cy\n"  # no time zone: skipped by the calling window
        "crm-4,12,,America/Chicago,Dee\n"  # too short for Sinch: rejected
        "crm-1,5551230001,,America/Chicago,Ann\n"  # duplicate of row 1
    )
    operator = UploadContactsOperator(
        task_id="upload",
        dialer_conn_id="sinch_obi_default",
        campaign_id=SINCH_CAMPAIGN,
        source=str(source),
        max_rejected_ratio=0.5,
        calling_window=("00:00", "23:59"),
    )
    store = DictStateStore()
    result = operator.execute({"task_state_store": store})

    assert {k: result[k] for k in ("total", "accepted", "rejected", "duplicates", "skipped_window")} == {
        "total": 5,
        "accepted": 2,
        "rejected": 1,
        "duplicates": 1,
        "skipped_window": 1,
    }
    customers = sandbox.core.vendors["sinch"].snapshot()["campaigns"][SINCH_CAMPAIGN]["customers"]
    uploaded = {c["externalId"]: c for c in customers if c["externalId"].startswith("crm-")}
    assert sorted(uploaded) == ["crm-1", "crm-2"]
    assert uploaded["crm-1"]["numbers"] == "5551230001;5551230002"
    assert {"name": "Name", "value": "Ann"} in uploaded["crm-1"]["attributes"]["attribute"]
    (reject,) = result["first_rejects"]
    assert (reject["row"], reject["field"] is not None) == (4, True)
    # A retry of the finished task sends nothing again and reports the same counts.
    again = operator.execute({"task_state_store": store})
    assert (again["sent"], again["accepted"], again["resumed_from_row"]) == (0, 2, 6)


@pytest.mark.parametrize(
    ("operator_class", "rows_param", "capability"),
    [
        (UploadContactsOperator, "contacts", "upload contacts"),
        (AddCallbacksOperator, "callbacks", "schedule callbacks"),
    ],
)
def test_maxcontact_cannot_take_uploads_and_says_so(
    sandbox, sandbox_client, operator_class, rows_param, capability
):
    rows = [{"phone": "5551230001", "timezone": "Europe/London", "callback_at": "2031-01-01T10:00:00Z"}]
    if rows_param == "contacts":
        rows = [{k: v for k, v in rows[0].items() if k != "callback_at"}]
    operator = operator_class(
        task_id="t", dialer_conn_id="maxcontact_default", campaign_id=1, **{rows_param: rows}
    )
    with pytest.raises(DialerNotSupportedError, match=f"MaxContact.*cannot {capability}"):
        operator.execute({"task_state_store": DictStateStore()})
    assert sandbox_client.requests(vendor="maxcontact") == []  # nothing was sent


def test_rejects_file_goes_into_a_new_folder(sandbox, tmp_path):
    rejects = tmp_path / "new" / "folder" / "rejects.csv"
    result = UploadContactsOperator(
        task_id="upload", dialer_conn_id="sinch_obi_default", campaign_id=SINCH_CAMPAIGN,
        contacts=[{"phone": "12"}], rejects_path=str(rejects), max_rejected_ratio=1.0,
    ).execute({})
    assert result["rejected"] == 1 and rejects.exists()


def test_rows_refused_before_sending_are_not_counted_as_sent(sandbox, sandbox_client, caplog):
    """A callback Sinch's mapping refuses (an agent that is not a Sinch user id) never reaches the
    dialer: ``sent`` and ``batches`` say 0, the dialer's log has no upload, and the log says so."""
    from airflow_provider_dialers.operators import AddCallbacksOperator

    callbacks = [{"external_id": "cb-x", "phone": "5551239001", "timezone": "America/Chicago",
                  "callback_at": "2031-05-04T15:30:00-05:00", "agent": "agent7"}]
    with caplog.at_level("INFO"):
        result = AddCallbacksOperator(task_id="cb", dialer_conn_id="sinch_obi_default", campaign_id=SINCH_CAMPAIGN,
                                      callbacks=callbacks, max_rejected_ratio=1.0).execute({})
    assert (result["rejected"], result["sent"], result["batches"]) == (1, 0, 0)
    assert sandbox_client.requests(vendor="sinch", path="customers/list") == []
    assert result["requests"] == len(sandbox_client.requests(vendor="sinch"))  # what the dialer saw
    assert "0 rows sent" in caplog.text and " 1 requests" not in caplog.text
