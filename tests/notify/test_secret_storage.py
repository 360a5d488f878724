"""Endpoint secrets are sealed (AES-GCM) under a key kept outside the database."""

from __future__ import annotations

import base64
import os
import stat
from pathlib import Path

import pytest
from standardwebhooks.webhooks import Webhook

from twinrail.notify.adapters.secret_box import SecretBox
from twinrail.notify.domain.errors import SecretKeyUnavailable
from twinrail.notify.domain.model import new_webhook_secret

from .conftest import TEST_KEY


def test_a_new_secret_is_a_standard_webhooks_secret_of_32_bytes() -> None:
    secret = new_webhook_secret()
    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret.removeprefix("whsec_"))) == 32
    Webhook(secret)  # the library accepts it


def test_a_sealed_secret_opens_only_for_its_own_endpoint() -> None:
    box = SecretBox(TEST_KEY)
    sealed = box.seal("whe_1", "whsec_abc")
    assert sealed.startswith("v1:") and "whsec_abc" not in sealed
    assert box.open("whe_1", sealed) == "whsec_abc"
    with pytest.raises(SecretKeyUnavailable):
        box.open("whe_2", sealed)


def test_another_key_cannot_open_a_sealed_secret() -> None:
    sealed = SecretBox(TEST_KEY).seal("whe_1", "whsec_abc")
    other = SecretBox(base64.b64encode(os.urandom(32)).decode())
    with pytest.raises(SecretKeyUnavailable):
        other.open("whe_1", sealed)


def test_without_a_configured_key_a_private_key_file_is_made_once_and_reused(
    tmp_path: Path,
) -> None:
    key_file = tmp_path / "var" / "notify-secret.key"
    sealed = SecretBox(key_file=key_file).seal("whe_1", "whsec_abc")
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert SecretBox(key_file=key_file).open("whe_1", sealed) == "whsec_abc"


@pytest.mark.parametrize("key", ["", "not base64!", base64.b64encode(b"short").decode()])
def test_a_missing_or_malformed_key_is_a_clear_fault(key: str) -> None:
    with pytest.raises(SecretKeyUnavailable):
        SecretBox(key).seal("whe_1", "whsec_abc")
