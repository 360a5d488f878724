"""A simulated KYC provider that behaves like the real ones (Onfido, Sumsub).

`start_verification` answers at once with a reference; the result comes later, as an HMAC-signed
callback POSTed to twinrail's callback URL by `deliver_due` (or its loop), after `delay`. Like the
providers' sandboxes, the applicant's name picks the result: a name containing "reject" is
rejected, one containing "unclear" needs more information, anyone else is approved at the tier
asked for, with documents valid for `document_validity`. A test may `schedule` any result.

Delivery uses an injected `httpx.Client` (a FastAPI `TestClient` is one) with a timeout; a
failed delivery stays scheduled and is retried with backoff on later rounds. With
`auto_deliver`, a timer delivers each callback when due (the provider in the API's process);
otherwise `deliver_due` is called by a loop or a test.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading
import uuid
from dataclasses import dataclass, field

import httpx

from twinrail.compliance.domain.kyc import Tier
from twinrail.compliance.domain.kyc_provider import (
    SIGNATURE_HEADER,
    VerificationResult,
    sign_callback,
)
from twinrail.compliance.service.kyc_provider_service import KycProvider, VerificationRequest
from twinrail.platform.clock import Clock, utc_now

__all__ = ["SimulatedKycProvider", "ScheduledCallback"]

log = logging.getLogger(__name__)


@dataclass
class ScheduledCallback:
    """A result the simulated provider will call back with once `due_at` has passed."""

    reference: str
    callback_url: str
    result: VerificationResult
    tier: Tier
    due_at: dt.datetime
    event_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    attempts: int = 0


class SimulatedKycProvider(KycProvider):
    """An in-process KYC provider that calls back over HTTP with signed results."""

    name = "simulated"

    def __init__(
        self,
        secret: bytes,
        http: httpx.Client | None = None,
        *,
        delay: dt.timedelta = dt.timedelta(seconds=2),
        document_validity: dt.timedelta = dt.timedelta(days=365),
        timeout: float = 5.0,
        clock: Clock = utc_now,
        auto_deliver: bool = False,
    ) -> None:
        self.secret = secret
        self.http = http or httpx.Client(timeout=timeout)
        self.delay = delay
        self.document_validity = document_validity
        self.timeout = timeout
        self.clock = clock
        self.auto_deliver = auto_deliver
        self.scheduled: dict[str, ScheduledCallback] = {}
        self._lock = threading.Lock()

    def start_verification(self, request: VerificationRequest) -> str:
        reference = f"sim_{uuid.uuid4().hex}"
        name = request.applicant_name.lower()
        result = (
            VerificationResult.REJECTED if "reject" in name
            else VerificationResult.NEEDS_MORE_INFORMATION if "unclear" in name
            else VerificationResult.APPROVED
        )  # fmt: skip
        self.schedule(reference, request.callback_url, result, request.tier)
        return reference

    def schedule(
        self,
        reference: str,
        callback_url: str,
        result: VerificationResult,
        tier: Tier,
        *,
        delay: dt.timedelta | None = None,
    ) -> ScheduledCallback:
        """Schedule (or replace) the callback for `reference`."""
        due = self.clock() + (self.delay if delay is None else delay)
        callback = ScheduledCallback(reference, callback_url, result, tier, due)
        with self._lock:
            self.scheduled[reference] = callback
        if self.auto_deliver:  # in-process: a timer plays the provider calling back later
            timer = threading.Timer(max((due - self.clock()).total_seconds(), 0.0) + 0.05,
                                    self.deliver_due)  # fmt: skip
            timer.daemon = True
            timer.start()
        return callback

    def signed_callback(self, callback: ScheduledCallback) -> tuple[bytes, dict[str, str]]:
        """The body and headers the provider sends for `callback`, signed now."""
        now = self.clock()
        approved = callback.result is VerificationResult.APPROVED
        body = json.dumps(
            {
                "event_id": callback.event_id,
                "reference": callback.reference,
                "result": callback.result.value,
                "tier": int(callback.tier) if approved else None,
                "documents_expire_at": (
                    (now + self.document_validity).isoformat() if approved else None
                ),
            },
            separators=(",", ":"),
        ).encode()
        headers = {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: sign_callback(self.secret, body, now),
        }
        return body, headers

    def deliver_due(self) -> int:
        """POST every callback that is due; the number delivered (failures stay scheduled)."""
        now = self.clock()
        with self._lock:
            due = [c for c in self.scheduled.values() if c.due_at <= now]
        delivered = 0
        for callback in due:
            body, headers = self.signed_callback(callback)
            try:
                # the timeout is the client's (set here when this adapter builds it)
                response = self.http.post(callback.callback_url, content=body, headers=headers)
                ok = response.status_code < 300
            except httpx.HTTPError as exc:
                log.warning("kyc callback failed: %s", type(exc).__name__)
                ok = False
            with self._lock:
                if ok:
                    self.scheduled.pop(callback.reference, None)
                    delivered += 1
                else:  # back off: 2, 4, 8 ... seconds, capped at 5 minutes
                    callback.attempts += 1
                    backoff = min(2**callback.attempts, 300)
                    callback.due_at = now + dt.timedelta(seconds=backoff)
        return delivered

    def run_forever(self, stop: threading.Event, interval: float = 1.0) -> None:
        """Deliver due callbacks until `stop` is set (the in-process scheduler)."""
        while not stop.wait(interval):
            self.deliver_due()
