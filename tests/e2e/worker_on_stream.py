"""A real `twinrail worker` (the standard loops) on a JetStream stream and subject prefix of its
own, so that an end-to-end test never shares subjects or durable consumers with anything else
on the NATS server.

usage: python worker_on_stream.py STREAM SUBJECT_PREFIX  (database and NATS from TWINRAIL_*)
"""

from __future__ import annotations

import sys

from twinrail.bootstrap import bootstrap
from twinrail.platform.bus import JetStreamBus
from twinrail.platform.logging import configure_logging
from twinrail.runtime.worker import Worker, build_loops


def main(stream: str, subject_prefix: str) -> None:
    configure_logging()
    platform = bootstrap(migrate=False)
    bus = JetStreamBus(platform.settings.bus_url, stream, subject_prefix=subject_prefix)
    try:
        Worker(build_loops(platform, bus, interval=0.2)).run_until_signalled()
    finally:
        bus.close()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
