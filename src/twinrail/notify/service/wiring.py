"""Builds the notify services from settings: what the API and the worker each need."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy import Engine

from twinrail.notify.adapters.http_deliverer import HttpDeliverer
from twinrail.notify.adapters.secret_box import SecretBox
from twinrail.notify.service.endpoints import WebhookEndpointService
from twinrail.notify.service.fanout import WebhookFanout
from twinrail.notify.service.sender import WebhookSender
from twinrail.notify.service.settings import NotifySettings
from twinrail.platform.clock import Clock, utc_now

__all__ = ["build_endpoint_service", "build_sender", "build_fanout", "KEY_FILE_NAME"]

KEY_FILE_NAME = "notify-secret.key"


def build_endpoint_service(
    engine: Engine,
    var_dir: Path,
    settings: NotifySettings | None = None,
    *,
    clock: Clock = utc_now,
) -> WebhookEndpointService:
    """Endpoint management, with secrets sealed by the configured key (or `var_dir`'s key file)."""
    settings = settings or NotifySettings()
    box = SecretBox(settings.secret_key, key_file=var_dir / KEY_FILE_NAME)
    grace = dt.timedelta(hours=settings.rotation_grace_hours)
    return WebhookEndpointService(engine, box, rotation_grace=grace, clock=clock)


def build_sender(
    engine: Engine,
    var_dir: Path,
    settings: NotifySettings | None = None,
    *,
    clock: Clock = utc_now,
) -> WebhookSender:
    """The sender loop over httpx with the configured timeouts, limits and retry schedule."""
    settings = settings or NotifySettings()
    return WebhookSender(
        engine,
        build_endpoint_service(engine, var_dir, settings, clock=clock),
        HttpDeliverer(
            settings.timeout_seconds, allow_private_networks=settings.allow_private_networks
        ),
        policy=settings.retry_policy(),
        per_endpoint_concurrency=settings.per_endpoint_concurrency,
        max_workers=settings.max_workers,
        batch_size=settings.batch_size,
        claim_seconds=max(30.0, settings.timeout_seconds * 4),
        clock=clock,
    )


def build_fanout(engine: Engine, *, clock: Clock = utc_now) -> WebhookFanout:
    """The outbox consumer that creates deliveries; `subscribe(bus)` it in the worker."""
    return WebhookFanout(engine, clock=clock)
