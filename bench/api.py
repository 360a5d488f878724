"""The HTTP API under load: payment orders end to end against /healthz, and against pgbench.

Prints one JSON line:
  orders_rps, orders_p50_ms, orders_p99_ms   authenticated POST /v1/payment-orders
      (internal transfers, each with its own Idempotency-Key) through compliance and the
      ledger to `completed`, on PostgreSQL
  trivial_rps, trivial_p50_ms, trivial_p99_ms   GET /healthz on the same server, same run
  ratio            orders_rps / trivial_rps
  pgbench_tps      pgbench tpcb-like, 4 clients, scale 10, same run
  pgbench_ratio    orders_rps / pgbench_tps
  sqlite_orders_rps   the same orders on the embedded SQLite default
  completed_share  the share of orders that really reached `completed` (checked afterwards)

The load comes from wrk (Debian package `wrk`) on loopback, which costs little CPU.
Usage: python bench/api.py --db postgresql://postgres@127.0.0.1/twinrail_bench_api
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).parent))
from ledger import run_pgbench  # noqa: E402
from twinrail.api.store.tables import customer_accounts  # noqa: E402
from twinrail.ledger.domain.commands import DefineAsset, OpenAccount, PostTransfer  # noqa: E402
from twinrail.ledger.domain.model import Posting, Side  # noqa: E402
from twinrail.ledger.service.ledger_service import LedgerService  # noqa: E402
from twinrail.pipeline.store.tables import payment_orders  # noqa: E402
from twinrail.platform.db import create_db_engine, normalise_url  # noqa: E402

TWINRAIL = str(Path(sys.executable).parent / "twinrail")
CUSTOMERS = 16  # compliance serialises decisions per customer; spread the load

_WRK_SCRIPT = """
local counter = 0
local thread_id = 0
local threads = {}
function setup(thread)
  thread:set("tid", #threads + 1)
  table.insert(threads, thread)
end
function init(args)
  thread_id = tid
  math.randomseed(os.time() + tid * 7919)
end
request = function()
  counter = counter + 1
  local pair = PAIRS[(counter + thread_id) % #PAIRS + 1]
  local body = string.format(
    '{"type":"internal_transfer","amount":"1","asset":"EUR",'
    .. '"source_account_id":"%s","destination_account_id":"%s"}', pair[1], pair[2])
  local headers = {
    ["Authorization"] = "Bearer TOKEN",
    ["Content-Type"] = "application/json",
    ["Idempotency-Key"] = string.format("wrk-%d-%d-%d", thread_id, counter, math.random(1, 1e9)),
  }
  return wrk.format("POST", "/v1/payment-orders", headers, body)
end
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def recreate_database(url: str) -> None:
    parsed = make_url(normalise_url(url))
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{parsed.database}"'))
    admin.dispose()


def start_server(env: dict[str, str], port: int, workers: int) -> subprocess.Popen[bytes]:
    server = subprocess.Popen(
        [TWINRAIL, "serve", "--port", str(port), "--workers", str(workers)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return server
        except httpx.HTTPError:
            time.sleep(0.2)
    server.kill()
    raise RuntimeError("the API server did not come up")


def prepare_orders(
    base: str, env: dict[str, str], db_url: str
) -> tuple[str, list[tuple[str, str]]]:
    """A client, its token, and funded source/destination accounts for several customers."""
    created = subprocess.run(
        [TWINRAIL, "api", "create-client", "bench", "--json"],
        env=env, check=True, capture_output=True, text=True,
    )  # fmt: skip
    client = json.loads(created.stdout)
    token = httpx.post(
        f"{base}/oauth/token",
        data={"grant_type": "client_credentials", "client_id": client["client_id"],
              "client_secret": client["client_secret"]},
    ).json()["access_token"]  # fmt: skip
    headers = {"Authorization": f"Bearer {token}"}

    def post(path: str, body: dict[str, object]) -> dict[str, object]:
        reply = httpx.post(
            base + path, json=body, headers={**headers, "Idempotency-Key": uuid.uuid4().hex}
        )
        reply.raise_for_status()
        return dict(reply.json())

    engine = create_db_engine(db_url)
    ledger = LedgerService(engine)
    ledger.define_asset(DefineAsset("EUR", 2))
    ledger.open_account(OpenAccount("bench-funding", "EUR", "bench", "Bench funding", Side.DEBIT))
    pairs = []
    for n in range(CUSTOMERS):
        customer = post("/v1/customers", {"kind": "individual", "name": f"Bench {n}"})
        src = post("/v1/accounts", {"customer_id": customer["id"], "asset": "EUR"})["id"]
        dst = post("/v1/accounts", {"customer_id": customer["id"], "asset": "EUR"})["id"]
        with engine.connect() as conn:
            ledger_id = conn.scalar(
                select(customer_accounts.c.ledger_account_id).where(customer_accounts.c.id == src)
            )
        ledger.post_transfer(
            PostTransfer(
                f"bench-fund-{n}",
                (Posting("bench-funding", Side.DEBIT, 10**9, "EUR"),
                 Posting(str(ledger_id), Side.CREDIT, 10**9, "EUR")),
            )
        )  # fmt: skip
        pairs.append((str(src), str(dst)))
    engine.dispose()
    return token, pairs


def run_wrk(url: str, seconds: int, connections: int, script: str | None) -> dict[str, float]:
    args = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", url]
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as lua:
        if script:
            lua.write(script)
    if script:
        args[1:1] = ["-s", lua.name]
    out = subprocess.run(args, check=True, capture_output=True, text=True).stdout
    os.unlink(lua.name)
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    return {"rps": rps, "p50_ms": _latency(out, "50%"), "p99_ms": _latency(out, "99%")}


def _latency(out: str, percentile: str) -> float:
    match = re.search(rf"{re.escape(percentile)}\s+([\d.]+)(us|ms|s)", out)
    if not match:
        return float("nan")
    value, unit = float(match.group(1)), match.group(2)
    return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value


def measure(db_url: str, seconds: int, connections: int, workers: int) -> dict[str, float]:
    var_dir = Path(tempfile.mkdtemp(prefix="twinrail-bench-api-"))
    port = free_port()
    env = {
        **os.environ,
        "TWINRAIL_DATABASE_URL": db_url,
        "TWINRAIL_VAR_DIR": str(var_dir),
        "TWINRAIL_API_RATE_PER_SECOND": "1000000",
        "TWINRAIL_API_RATE_BURST": "1000000",
        "TWINRAIL_NOTIFY_SECRET_KEY": "YmVuY2gtb25seS1rZXktYmVuY2gtb25seS1rZXktMzI=",
    }
    server = start_server(env, port, workers)
    try:
        base = f"http://127.0.0.1:{port}"
        token, pairs = prepare_orders(base, env, db_url)
        lua_pairs = ", ".join(f'{{"{a}", "{b}"}}' for a, b in pairs)
        script = f"PAIRS = {{{lua_pairs}}}\n" + _WRK_SCRIPT.replace("TOKEN", token)
        orders = run_wrk(base + "/v1/payment-orders", seconds, connections, script)
        trivial = run_wrk(base + "/healthz", seconds, connections, None)
    finally:
        server.terminate()
        server.wait(30)
        shutil.rmtree(var_dir, ignore_errors=True)
    engine = create_db_engine(db_url)
    with engine.connect() as conn:
        total = conn.scalar(select(func.count()).select_from(payment_orders)) or 0
        completed = (
            conn.scalar(
                select(func.count())
                .select_from(payment_orders)
                .where(payment_orders.c.state == "completed")
            )
            or 0
        )
    engine.dispose()
    return {**{f"orders_{k}": v for k, v in orders.items()},
            **{f"trivial_{k}": v for k, v in trivial.items()},
            "completed_share": round(completed / total, 4) if total else 0.0}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", default="postgresql://postgres@127.0.0.1/twinrail_bench_api")
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()

    recreate_database(args.db)
    pg = measure(args.db, args.seconds, args.connections, args.workers)
    with tempfile.TemporaryDirectory() as tmp:
        lite = measure(f"sqlite:///{tmp}/bench.db", args.seconds, args.connections, args.workers)
    pgbench = run_pgbench(args.db, 4, args.seconds)
    result = {
        "orders_rps": round(pg["orders_rps"], 1),
        "orders_p50_ms": round(pg["orders_p50_ms"], 2),
        "orders_p99_ms": round(pg["orders_p99_ms"], 2),
        "trivial_rps": round(pg["trivial_rps"], 1),
        "trivial_p50_ms": round(pg["trivial_p50_ms"], 2),
        "trivial_p99_ms": round(pg["trivial_p99_ms"], 2),
        "ratio": round(pg["orders_rps"] / pg["trivial_rps"], 3),
        "pgbench_tps": round(pgbench, 1),
        "pgbench_ratio": round(pg["orders_rps"] / pgbench, 3),
        "completed_share": pg["completed_share"],
        "sqlite_orders_rps": round(lite["orders_rps"], 1),
        "sqlite_completed_share": lite["completed_share"],
        "workers": args.workers,
        "connections": args.connections,
    }
    sys.stdout.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
