"""A relay process that publishes one batch to JetStream and hangs before marking it.

The SIGKILL test starts it, waits for the marker file that says the bus acknowledged the
batch, and kills it with signal 9: the crash between publish and mark, for real.

usage: python relay_victim.py DATABASE_URL NATS_URL STREAM SUBJECT_PREFIX MARKER_FILE
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Sequence

from twinrail.platform.bus import JetStreamBus, PublishReceipt
from twinrail.platform.db import create_db_engine
from twinrail.platform.outbox import OutboxMessage
from twinrail.platform.relay import OutboxRelay


def main(database_url: str, nats_url: str, stream: str, prefix: str, marker: str) -> None:
    engine = create_db_engine(database_url)
    bus = JetStreamBus(nats_url, stream, subject_prefix=prefix)

    def hang(_messages: Sequence[OutboxMessage], receipts: Sequence[PublishReceipt]) -> None:
        partial = f"{marker}.partial"
        with open(partial, "w") as out:
            json.dump([r.event_id for r in receipts], out)
        os.replace(partial, marker)  # the test never reads half a file
        time.sleep(120)  # wait here for SIGKILL

    OutboxRelay(engine, bus, after_publish=hang).relay_once()
    sys.exit("the relay was not killed")


if __name__ == "__main__":
    main(*sys.argv[1:])
