"""Webhooks are never sent into private networks unless that is explicitly allowed."""

from __future__ import annotations

import datetime as dt

import pytest

from twinrail.notify.adapters.http_deliverer import HttpDeliverer
from twinrail.notify.domain.destinations import forbidden_destination


@pytest.mark.parametrize(
    "address",
    ["127.0.0.1", "10.1.2.3", "172.16.0.9", "192.168.1.1", "169.254.169.254", "::1",
     "fd00::1", "fe80::1%eth0", "0.0.0.0", "224.0.0.1"],
)  # fmt: skip
def test_private_loopback_link_local_and_multicast_addresses_are_refused(address: str):
    assert forbidden_destination([address], allow_private=False) is not None
    assert forbidden_destination([address], allow_private=True) is None


def test_a_public_address_is_allowed_but_one_private_answer_among_many_is_not():
    assert forbidden_destination(["93.184.216.34"], allow_private=False) is None
    assert forbidden_destination(["93.184.216.34", "10.0.0.1"], allow_private=False)
    assert forbidden_destination([], allow_private=True) == "the host name does not resolve"


SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def test_the_deliverer_refuses_a_loopback_url_before_connecting():
    deliverer = HttpDeliverer(2.0)
    result = deliverer.deliver(
        "http://127.0.0.1:9/hook", "msg_1", dt.datetime.now(dt.UTC), "{}", [SECRET]
    )
    deliverer.close()
    assert result.status_code is None
    assert result.error == "destination 127.0.0.1 is not a public address"


def test_the_hosts_resolved_addresses_decide_not_its_name():
    deliverer = HttpDeliverer(2.0, resolve=lambda _host, _port: ["10.0.0.7"])
    now = dt.datetime.now(dt.UTC)
    result = deliverer.deliver("https://hooks.example.com/x", "msg_2", now, "{}", [SECRET])
    deliverer.close()
    assert result.error == "destination 10.0.0.7 is not a public address"
