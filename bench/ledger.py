"""Ledger throughput on PostgreSQL against pgbench on the same machine, in one run.

Prints one JSON line:
  single_tps      one transfer per database transaction, N client processes, 1,000 accounts
  pgbench_tps     pgbench tpcb-like, same client count, scale 10, on its own database
  ratio           single_tps / pgbench_tps
  batch_tps       transfers per second posted as linked batches of 1,000
  hot_tps         like single, but every transfer debits one hot no-overdraft account
  hot_ratio       hot_tps / single_tps
  coalesced_tps   16 concurrent callers, one transfer at a time each, via GroupCommitter
                  (spread over --coalesce-processes worker processes, 2 by default)
  coalesced_ratio coalesced_tps / pgbench_tps
  sqlite_tps      single transfers, one process, on the embedded SQLite default

Every commit is durable (synchronous_commit stays on). Usage:
  python bench/ledger.py --db postgresql://postgres@127.0.0.1/twinrail_bench --clients 4
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import random
import re
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from twinrail.ledger.domain.commands import DefineAsset, OpenAccount, PostTransfer
from twinrail.ledger.domain.model import Limits, Posting, Side
from twinrail.ledger.service.group_commit import GroupCommitter
from twinrail.ledger.service.ledger_service import LedgerService
from twinrail.platform.db import create_db_engine, normalise_url
from twinrail.platform.migrate import upgrade

ACCOUNTS = 1_000
HOT = "hot"
FUNDING = 10**15


def account_id(i: int) -> str:
    return f"acc-{i:04d}"


def transfer(debit: str, credit: str, amount: int = 1) -> PostTransfer:
    return PostTransfer(
        id=uuid.uuid4().hex,
        postings=(
            Posting(debit, Side.DEBIT, amount, "EUR"),
            Posting(credit, Side.CREDIT, amount, "EUR"),
        ),
    )


def ensure_database(url: str) -> None:
    """Create the database named in `url` if it does not exist."""
    parsed = make_url(normalise_url(url))
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        exists = conn.scalar(
            text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": parsed.database}
        )
        if not exists:
            conn.execute(text(f'CREATE DATABASE "{parsed.database}"'))
    admin.dispose()


def prepare(url: str) -> None:
    """A migrated, empty ledger with 1,000 funded accounts and one hot no-overdraft account."""
    engine = create_db_engine(url)
    upgrade(engine)
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            tables = conn.scalars(
                text(
                    "SELECT tablename FROM pg_tables WHERE schemaname='public' "
                    "AND tablename <> 'alembic_version'"
                )
            ).all()
            conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY"))
    ledger = LedgerService(engine)
    ledger.define_asset(DefineAsset("EUR", 2))
    ledger.open_account(OpenAccount("source", "EUR", "1000", "Funding", Side.DEBIT))
    ledger.open_account(
        OpenAccount(
            HOT, "EUR", "2000", "Hot", Side.CREDIT, Limits(debits_must_not_exceed_credits=True)
        )
    )
    funding = [transfer("source", HOT, FUNDING)]
    for i in range(ACCOUNTS):
        ledger.open_account(OpenAccount(account_id(i), "EUR", f"2{i:04d}", f"A{i}", Side.CREDIT))
        funding.append(transfer("source", account_id(i), FUNDING))
    ledger.post_linked_batch(funding)
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("VACUUM ANALYZE") if False else text("ANALYZE"))
    engine.dispose()


def _client(url: str, seconds: float, mode: str, seed: int, counter: mp.Value) -> None:
    engine = create_db_engine(url, pool_size=2)
    ledger = LedgerService(engine)
    rng = random.Random(seed)
    deadline = time.perf_counter() + seconds
    done = 0
    while time.perf_counter() < deadline:
        if mode == "hot":
            ledger.post_transfer(transfer(HOT, account_id(rng.randrange(ACCOUNTS))))
        else:
            a, b = rng.sample(range(ACCOUNTS), 2)
            ledger.post_transfer(transfer(account_id(a), account_id(b)))
        done += 1
    with counter.get_lock():
        counter.value += done
    engine.dispose()


def run_clients(url: str, clients: int, seconds: float, mode: str) -> float:
    """Transfers per second with `clients` processes each posting single transfers."""
    ctx = mp.get_context("spawn")
    counter = ctx.Value("q", 0)
    procs = [
        ctx.Process(target=_client, args=(url, seconds, mode, seed, counter))
        for seed in range(clients)
    ]
    for p in procs:
        p.start()
    for p in procs:
        p.join()
        if p.exitcode != 0:
            raise RuntimeError(f"a {mode} client failed with exit code {p.exitcode}")
    return counter.value / seconds


def run_batches(url: str, seconds: float, size: int = 1_000) -> float:
    engine = create_db_engine(url)
    ledger = LedgerService(engine)
    rng = random.Random(7)
    done = 0
    started = time.perf_counter()
    while time.perf_counter() - started < seconds:
        batch = []
        for _ in range(size):
            a, b = rng.sample(range(ACCOUNTS), 2)
            batch.append(transfer(account_id(a), account_id(b)))
        ledger.post_linked_batch(batch)
        done += size
    elapsed = time.perf_counter() - started
    engine.dispose()
    return done / elapsed


def _coalesced_worker(url: str, seconds: float, callers: int, seed: int, counter: Any) -> None:
    engine = create_db_engine(url, pool_size=2)
    committer = GroupCommitter(LedgerService(engine), committers=1)
    stop = threading.Event()
    counts = [0] * callers

    def caller(n: int) -> None:
        rng = random.Random(seed * 1000 + n)
        while not stop.is_set():
            a, b = rng.sample(range(ACCOUNTS), 2)
            committer.post_transfer(transfer(account_id(a), account_id(b)))
            counts[n] += 1

    with ThreadPoolExecutor(callers) as pool:
        futures = [pool.submit(caller, n) for n in range(callers)]
        time.sleep(seconds)
        stop.set()
        for f in futures:
            f.result()
    committer.close()
    engine.dispose()
    with counter.get_lock():
        counter.value += sum(counts)


def run_coalesced(url: str, seconds: float, callers: int = 16, processes: int = 2) -> float:
    """16 callers, each posting one transfer at a time through GroupCommitter.post_transfer,
    spread over `processes` processes as the API spreads requests over its workers."""
    ctx = mp.get_context("spawn")
    counter = ctx.Value("q", 0)
    share = [callers // processes + (1 if i < callers % processes else 0) for i in range(processes)]
    procs = [
        ctx.Process(target=_coalesced_worker, args=(url, seconds, n, i, counter))
        for i, n in enumerate(share)
    ]
    for p in procs:
        p.start()
    for p in procs:
        p.join()
        if p.exitcode != 0:
            raise RuntimeError(f"a coalescing worker failed with exit code {p.exitcode}")
    return counter.value / seconds


def run_pgbench(url: str, clients: int, seconds: int) -> float:
    """pgbench tpcb-like at scale 10 on a database of its own, next to the ledger's."""
    parsed = make_url(normalise_url(url))
    name = f"{parsed.database}_pgbench"
    ensure_database(str(parsed.set(database=name)))
    env = {
        **os.environ,
        "PGHOST": parsed.host or "127.0.0.1",
        "PGUSER": parsed.username or "postgres",
    }
    if parsed.port:
        env["PGPORT"] = str(parsed.port)
    subprocess.run(
        ["pgbench", "-i", "-q", "-s", "10", name], env=env, check=True, capture_output=True
    )
    out = subprocess.run(
        ["pgbench", "-c", str(clients), "-j", str(min(clients, 2)), "-T", str(seconds), name],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    match = re.search(r"tps = ([\d.]+)", out)
    if not match:
        raise RuntimeError(f"could not read pgbench output:\n{out}")
    return float(match.group(1))


def run_sqlite(seconds: float) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/bench.db"
        prepare(url)
        engine = create_db_engine(url)
        ledger = LedgerService(engine)
        rng = random.Random(3)
        done = 0
        started = time.perf_counter()
        while time.perf_counter() - started < seconds:
            a, b = rng.sample(range(ACCOUNTS), 2)
            ledger.post_transfer(transfer(account_id(a), account_id(b)))
            done += 1
        elapsed = time.perf_counter() - started
        engine.dispose()
    return done / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", default="postgresql://postgres@127.0.0.1/twinrail_bench")
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument(
        "--coalesce-processes", type=int, default=2, help="API-like worker processes"
    )
    parser.add_argument(
        "--only", help="comma-separated subset: single,pgbench,batch,hot,coalesced,sqlite"
    )
    args = parser.parse_args()
    only = set(args.only.split(",")) if args.only else None

    def want(name: str) -> bool:
        return only is None or name in only

    ensure_database(args.db)
    prepare(args.db)
    result: dict[str, float | int | str] = {"clients": args.clients, "seconds": args.seconds}
    if want("single"):
        result["single_tps"] = round(run_clients(args.db, args.clients, args.seconds, "single"), 1)
    if want("pgbench"):
        result["pgbench_tps"] = round(run_pgbench(args.db, args.clients, int(args.seconds)), 1)
    if want("batch"):
        result["batch_tps"] = round(run_batches(args.db, args.seconds), 1)
    if want("hot"):
        result["hot_tps"] = round(run_clients(args.db, args.clients, args.seconds, "hot"), 1)
    if want("coalesced"):
        result["coalesced_tps"] = round(
            run_coalesced(args.db, args.seconds, processes=args.coalesce_processes), 1
        )
        result["coalesced_processes"] = args.coalesce_processes
    if want("sqlite"):
        result["sqlite_tps"] = round(run_sqlite(args.seconds), 1)
    if "single_tps" in result and "pgbench_tps" in result:
        result["ratio"] = round(float(result["single_tps"]) / float(result["pgbench_tps"]), 3)
    if "hot_tps" in result and "single_tps" in result:
        result["hot_ratio"] = round(float(result["hot_tps"]) / float(result["single_tps"]), 3)
    if "coalesced_tps" in result and "pgbench_tps" in result:
        result["coalesced_ratio"] = round(
            float(result["coalesced_tps"]) / float(result["pgbench_tps"]), 3
        )
    sys.stdout.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
