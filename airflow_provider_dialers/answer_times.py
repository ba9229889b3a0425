"""Times as dialers answer them, read into ISO 8601 in UTC (the form every ContactRecord carries)."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import pendulum


def utc_iso(value: Any, local_zone: str = "UTC") -> str | None:
    """``value`` (ISO 8601 text; one without an offset is in ``local_zone``) as ISO 8601 in UTC;
    None when absent or unreadable.

    :param value: the time as the dialer wrote it.
    :param local_zone: the zone of a time written without an offset (the server's).
    """
    if value in (None, "") or isinstance(value, bool):
        return None
    text = str(value).strip()
    try:  # the common case, a time with its offset: the standard library reads it ten times faster
        moment = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith("Z") else text)
        if moment.tzinfo is not None:
            return moment.astimezone(timezone.utc).isoformat()
    except (ValueError, OverflowError):
        pass
    try:
        parsed = pendulum.parse(text, tz=local_zone)
    except (ValueError, OverflowError, pendulum.parsing.exceptions.ParserError):
        return None
    if not isinstance(parsed, datetime):
        return None  # a date, a time of day or a duration: not a moment
    try:
        return pendulum.instance(parsed).in_timezone("UTC").isoformat()
    except (ValueError, OverflowError):
        return None  # beyond what a datetime holds once moved to UTC
