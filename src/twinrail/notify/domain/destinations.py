"""Where a webhook may be sent: public addresses only, unless private networks are allowed.

A client chooses its endpoint URL, so without this a client could make the platform POST into
its own network (databases, cloud metadata at 169.254.169.254, admin ports on localhost).
Every address the host name resolves to must be globally routable.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

__all__ = ["forbidden_destination"]


def forbidden_destination(addresses: Iterable[str], *, allow_private: bool) -> str | None:
    """Why none of `addresses` may be contacted, or None when all of them may."""
    resolved = list(addresses)
    if not resolved:
        return "the host name does not resolve"
    if allow_private:
        return None
    for text in resolved:
        address = ipaddress.ip_address(text.split("%", 1)[0])  # drop an IPv6 zone id
        if not address.is_global or address.is_multicast:
            return f"destination {address} is not a public address"
    return None
