"""What a profile changes in requests and answers at the edge: real banks' reporting habits (no
`transactionId`, value dates before booking dates) and a shorter maximum consent lifetime."""

from __future__ import annotations

import datetime as dt
from typing import Any

from twinrail.sandbox.bank.profile import Quirks

__all__ = ["apply_report_quirks", "shorten_valid_until"]


def apply_report_quirks(body: dict[str, Any], quirks: Quirks) -> dict[str, Any]:
    """The report `body` of GET .../transactions as a bank with `quirks` would send it."""
    if not (quirks.omit_transaction_ids or quirks.booking_lag_days):
        return body
    report = body.get("transactions") or {}
    for key in ("booked", "pending"):
        for item in report.get(key) or []:
            if quirks.omit_transaction_ids:
                item.pop("transactionId", None)
                item.get("_links", {}).pop("transactionDetails", None)
            if quirks.booking_lag_days and "bookingDate" in item:
                booked = dt.date.fromisoformat(item["bookingDate"])
                lag = dt.timedelta(days=quirks.booking_lag_days)
                item["valueDate"] = (booked - lag).isoformat()
    return body


def shorten_valid_until(body: Any, max_days: int, today: dt.date) -> Any:
    """A consent request whose validUntil is at most `max_days` ahead (spec: the ASPSP answers
    with the highest date it allows); anything malformed is left for the consent rules."""
    if not isinstance(body, dict) or not isinstance(body.get("validUntil"), str):
        return body
    try:
        requested = dt.date.fromisoformat(body["validUntil"])
    except ValueError:
        return body
    limit = today + dt.timedelta(days=max_days)
    return {**body, "validUntil": limit.isoformat()} if requested > limit else body
