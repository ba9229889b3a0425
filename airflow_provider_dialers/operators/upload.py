"""Upload contacts, or schedule callbacks, on any dialer: UploadContactsOperator, AddCallbacksOperator."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any, ClassVar

from airflow_provider_dialers.operators.base import DialerOperator

_ON_DUPLICATE = ("skip", "update")
#: uploads.dnc.ON_BAD_ENTRY, written here so DAG parsing does not load the upload engine.
_ON_BAD_DNC_ENTRY = ("fail", "skip")


class _RowUploadOperator(DialerOperator):
    """What uploading contacts and scheduling callbacks share: rows from a list or a file, the
    guards, batching, accounting, rejects file and resume after a crash (see ``uploads.engine``).

    Subclasses name their list parameter (``items_param``), which is also the engine's upload kind.
    """

    items_param: ClassVar[str]
    template_fields: Sequence[str] = (
        "dialer_conn_id",
        "campaign_id",
        "source",
        "lead_id",
        "field_map",
        "attribute_map",
        "calling_window",
        "dnc_source",
        "rejects_path",
        "dry_run_path",
        "default_region",
    )
    template_fields_renderers: ClassVar[dict[str, str]] = {
        "field_map": "json",
        "attribute_map": "json",
        "dnc_source": "json",
    }

    def __init__(
        self,
        *,
        campaign_id: str | int,
        items: Any = None,
        source: Any = None,
        lead_id: int | str | None = None,
        field_map: Mapping[str, str | None] | None = None,
        on_duplicate: str = "skip",
        max_rejected_ratio: float = 0.0,
        dry_run: bool = False,
        batch_size: int | None = None,
        bulk: bool | None = None,
        max_concurrency: int | None = None,
        adaptive_concurrency: bool = True,
        calling_window: Sequence[str] | str | None = None,
        scrub_dnc: bool = False,
        dnc_source: Any = None,
        on_bad_dnc_entry: str = "fail",
        rejects_path: Any = None,
        dry_run_path: Any = None,
        delimiter: str = ",",
        source_format: str | None = None,
        e164: bool = False,
        default_region: str | None = None,
        attribute_map: Mapping[str, str] | None = None,
        recontact_after: timedelta | int | float | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if (items is None) == (source is None):
            raise ValueError(
                f"{type(self).__name__}: give exactly one of {self.items_param}= (rows) or source= (a file)"
            )
        if on_duplicate not in _ON_DUPLICATE:
            raise ValueError(f"on_duplicate must be one of {_ON_DUPLICATE}, got {on_duplicate!r}")
        if on_bad_dnc_entry not in _ON_BAD_DNC_ENTRY:
            raise ValueError(f"on_bad_dnc_entry must be one of {_ON_BAD_DNC_ENTRY}, got {on_bad_dnc_entry!r}")
        if not 0.0 <= float(max_rejected_ratio) <= 1.0:
            raise ValueError(f"max_rejected_ratio must be between 0 and 1, got {max_rejected_ratio}")
        self.campaign_id = campaign_id
        setattr(self, self.items_param, items)
        self.source = source
        self.lead_id = lead_id
        self.field_map = field_map
        self.on_duplicate = on_duplicate
        self.max_rejected_ratio = float(max_rejected_ratio)
        self.dry_run = dry_run
        self.batch_size = batch_size
        self.bulk = bulk
        self.max_concurrency = max_concurrency
        self.adaptive_concurrency = adaptive_concurrency
        self.calling_window = calling_window
        self.scrub_dnc = scrub_dnc
        self.dnc_source = dnc_source
        self.on_bad_dnc_entry = on_bad_dnc_entry
        self.rejects_path = rejects_path
        self.dry_run_path = dry_run_path
        self.delimiter = delimiter
        self.source_format = source_format
        self.e164 = e164
        self.default_region = default_region
        self.attribute_map = attribute_map
        self.recontact_after = _duration("recontact_after", recontact_after)

    def run(self, context: Any) -> dict[str, Any]:
        # Imported here: DAG parsing stays light.
        from airflow_provider_dialers.compat import release_task_state, task_state_store
        from airflow_provider_dialers.uploads import CALLBACKS, CONTACTS, run_upload

        kind = {"contacts": CONTACTS, "callbacks": CALLBACKS}[self.items_param]
        store = task_state_store(context)  # Airflow's (3.3), or a Variable per task instance before it
        result = run_upload(
            self.hook,
            kind,
            self._input(),
            self._settings(task_instance_stem(context)),
            task_state_store=store,
        )
        release_task_state(store)  # succeeded: the fallback's Variable is not needed by any retry
        return result

    def _input(self) -> Any:
        """The file, or the rows (a JSON text when a template rendered an XCom as text)."""
        if self.source is not None:
            return self.source
        items = getattr(self, self.items_param)
        if isinstance(items, str):
            try:
                items = json.loads(items)
            except ValueError:
                raise ValueError(f"{self.items_param} rendered to text that is not a JSON list") from None
        if not isinstance(items, (list, tuple)):
            raise TypeError(f"{self.items_param} must be a list of objects, got {type(items).__name__}")
        return items

    def _settings(self, output_stem: str | None = None) -> Any:
        from airflow_provider_dialers.capabilities import UploadOptions
        from airflow_provider_dialers.contacts import PhoneOptions
        from airflow_provider_dialers.uploads import CallingWindow, UploadSettings
        from airflow_provider_dialers.uploads.dnc import DncSource

        return UploadSettings(
            campaign_id=str(self.campaign_id),
            options=UploadOptions(
                on_duplicate=self.on_duplicate,
                lead_id=_optional_int("lead_id", self.lead_id),
                attribute_map=self.attribute_map or None,
                dry_run=bool(self.dry_run), recontact_after=self.recontact_after,
            ),
            phone_options=PhoneOptions(e164=bool(self.e164), default_region=self.default_region or None),
            field_map=self.field_map,
            source_format=self.source_format,
            delimiter=self.delimiter,
            batch_size=self.batch_size,
            bulk=self.bulk,
            max_concurrency=self.max_concurrency,
            adaptive_concurrency=bool(self.adaptive_concurrency),
            calling_window=CallingWindow.parse(self.calling_window),
            scrub_dnc=bool(self.scrub_dnc),
            # The source travels with how its unusable entries (and the dialer list's) are handled.
            dnc_source=(DncSource(self.dnc_source, self.on_bad_dnc_entry)
                        if self.scrub_dnc or self.dnc_source is not None else None),
            rejects_path=self.rejects_path or None,
            dry_run_path=self.dry_run_path or None,
            output_stem=output_stem,
            recontact_after=self.recontact_after,
            max_rejected_ratio=self.max_rejected_ratio,
        )


_UNSAFE_IN_NAME = re.compile(r"[^A-Za-z0-9._-]+")


def task_instance_stem(context: Mapping[str, Any] | None) -> str | None:
    """``<dag>.<run>.<task>[.<map index>]``, file-name safe: names one task instance's rejects file
    (every try of it finds the same file; other tasks and runs never share it). None outside a task."""
    ti = (context or {}).get("ti") or (context or {}).get("task_instance")
    if ti is None:
        return None
    parts = [ti.dag_id, ti.run_id, ti.task_id]
    if getattr(ti, "map_index", -1) not in (None, -1):
        parts.append(f"map{ti.map_index}")
    return ".".join(_UNSAFE_IN_NAME.sub("_", str(part)).strip("._") for part in parts)


def _duration(name: str, value: timedelta | int | float | None) -> timedelta | None:
    """A duration: a ``timedelta``, or seconds."""
    if value is None or isinstance(value, timedelta):
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise ValueError(f"{name} must be a timedelta or a number of seconds, got {value!r}")
    return timedelta(seconds=value)


def _optional_int(name: str, value: Any) -> int | None:
    if value is None or value == "":
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number, got {value!r}") from None


class UploadContactsOperator(_RowUploadOperator):
    """Add contacts to a campaign's dialing list, on any dialer.

    What the vendors call them: ECM *callbacks* (``/umm/ecm/callback``), Sinch *customers*, Ameyo
    *customer records* in a *lead*. Each row ends in exactly one bucket of the result: ``accepted``,
    ``rejected`` (with its reason in the rejects file), ``duplicates``, ``skipped_dnc`` or
    ``skipped_window``; the buckets add up to ``total``.

    :param dialer_conn_id: the dialer connection (its type picks the vendor).
    :param campaign_id: the campaign (an id as text or number; templated, e.g. an XCom).
    :param contacts: contact dicts (``external_id``, ``phones``/``phone``/``phone1..5``, ``timezone``,
        ``dial_at``, ``attributes`` or any other key as an attribute), or an XComArg giving them.
    :param source: a CSV or JSON Lines file: local path, URL or ObjectStoragePath; read as a stream.
    :param lead_id: Ameyo: the lead to upload into.
    :param field_map: source column -> model key, ``attributes.<name>``, or None to drop the column.
    :param on_duplicate: ``skip`` or ``update`` a contact the dialer already has.
    :param max_rejected_ratio: fail the task (after uploading the rest) when more rows are rejected.
    :param dry_run: validate and map, write the payloads to the dry-run file, send nothing.
    :param batch_size: rows per request (default and maximum: the dialer's ``upload_batch_size``).
    :param bulk: load the contacts as files where the dialer has a file endpoint (ECM
        ``uploadBulkCaller``, reconciled row by row with ``getList``): None (default) from the
        dialer's ``bulk_threshold`` rows (ECM 1,000), True always, False never. A file then holds up
        to ``batch_size`` rows (default: the dialer's ``bulk_batch_size``, ECM 5,000).
    :param max_concurrency: requests in flight at once (default 4).
    :param adaptive_concurrency: on HTTP 429/503 answers, halve the requests in flight (never below 1)
        and add one back after each run of answers without one, up to ``max_concurrency`` (default
        True; False keeps ``max_concurrency`` whatever the dialer answers).
    :param calling_window: ``("08:00", "21:00")``: skip contacts whose dial time (or now) is outside
        these local hours in the contact's own time zone; no time zone known -> skipped.
    :param scrub_dnc: skip contacts on the dialer's DNC list.
    :param dnc_source: numbers to skip as well: a list, or a file with one number per line. Every
        list (this one and the dialer's) is compared in canonical E.164 form with ``default_region``,
        whatever ``e164`` says: ``2125550101`` stops ``+1 (212) 555-0101``.
    :param on_bad_dnc_entry: ``fail`` (default): a DNC entry holding no usable number fails the task
        before anything is sent, naming its line; ``skip``: leave it out, with a warning naming it.
    :param rejects_path: where the rejects file goes: a local path, a URL (``s3://bucket/rejects.csv``)
        or an ``ObjectStoragePath``; one ending in ``/`` is a folder. Default: next to the source (in
        the temp dir for rows), named after the task instance (``<source>.<dag>.<run>.<task>.rejects.csv``).
        On several workers, give shared storage: a retry on another worker continues the same file.
    :param dry_run_path: where a dry run's payloads go (as ``rejects_path``, ``....dryrun.jsonl``).
    :param delimiter: the CSV delimiter. :param source_format: ``csv``/``jsonl`` (default: by name).
    :param e164: normalise phones to E.164 (``default_region`` for numbers without a country code).
    :param attribute_map: ECM: attribute name -> ``businessParam1``..``businessParam12``.
    :param recontact_after: before sending, the upload reads what the campaign holds; a contact it
        holds, pending or already dialled, is a duplicate and is not loaded again (nobody is called
        twice). With a duration (``timedelta`` or seconds), a contact the dialer finished with longer
        ago than that is loaded again. Default: never again.
    :returns: (XCom) ``total``, ``accepted``, ``rejected``, ``duplicates``, ``skipped_dnc``,
        ``skipped_window``, ``timezone_inferred`` (judged on the number's zone), ``sent``, ``requests``,
        ``concurrency_min`` (the fewest requests in flight allowed after 429/503 answers),
        ``throttled`` (429/503 answers, retries included), ``resumed_from_row``, ``rejects_path``,
        ``first_rejects``, ``dry_run`` (a dry run has ``would_send``, ``sample_payloads``,
        ``dry_run_path`` and no ``sent``).
    """

    items_param = "contacts"
    template_fields: Sequence[str] = (*_RowUploadOperator.template_fields, "contacts")
    template_fields_renderers: ClassVar[dict[str, str]] = {
        **_RowUploadOperator.template_fields_renderers,
        "contacts": "json",
    }

    def __init__(
        self, *, dialer_conn_id: str, campaign_id: str | int, contacts: Any = None, **kwargs: Any
    ) -> None:
        super().__init__(dialer_conn_id=dialer_conn_id, campaign_id=campaign_id, items=contacts, **kwargs)


class AddCallbacksOperator(_RowUploadOperator):
    """Schedule callbacks: call a contact back at a given time, optionally by a given agent.

    ECM: ``insertCallback`` with ``dialTime``; Ameyo: ``addCallback`` /
    ``uploadContactAndAddCallback``; Sinch: a *customer* with its call date. Each callback is a
    contact (the keys of :class:`UploadContactsOperator`) plus ``callback_at`` (time-zone aware, or
    local to the contact's ``timezone``) and an optional ``agent``. The same parameters, result and
    guarantees as :class:`UploadContactsOperator`; the calling window is judged at ``callback_at``.

    :param callbacks: callback dicts, or an XComArg giving them (or use ``source=``).
    """

    items_param = "callbacks"
    template_fields: Sequence[str] = (*_RowUploadOperator.template_fields, "callbacks")
    template_fields_renderers: ClassVar[dict[str, str]] = {
        **_RowUploadOperator.template_fields_renderers,
        "callbacks": "json",
    }

    def __init__(
        self, *, dialer_conn_id: str, campaign_id: str | int, callbacks: Any = None, **kwargs: Any
    ) -> None:
        super().__init__(dialer_conn_id=dialer_conn_id, campaign_id=campaign_id, items=callbacks, **kwargs)
