"""The crypto rail's benchmarks in one run: signing (HSM against software) and the chain watcher.

Prints one JSON line:
  hsm_signs_per_s           canonical signatures per second via PKCS#11 (CKM_ECDSA in the token,
                            then low-s and recovery of v in Python: the path transactions use)
  software_signs_per_s      the same path with the scrypt-encrypted software key store
  ratio                     hsm_signs_per_s / software_signs_per_s
  hsm_raw_signs_per_s       CKM_ECDSA calls alone (no normalisation or recovery)
  software_raw_signs_per_s  software raw r||s alone
  messages                  how many distinct 32-byte digests each store signed
  watcher_blocks_per_s      blocks of `--transfers` token transfers each, all to our deposit
                            addresses, read and recorded per second by the deposit watcher
  deposits_credited_per_s   deposits per second end to end: read, recorded, credited into the
                            ledger (see bench/crypto_watcher.py, which this imports and which
                            stays runnable alone)
  blocks, transfers_per_block, deposits, database

Both stores sign the same digests, in the same process, one after the other. The defaults are
small so that the whole run takes well under two minutes; raise them for steadier figures:
  python bench/crypto.py --messages 500 --blocks 20 --transfers 100 [--database-url postgresql://...]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from eth_utils.crypto import keccak

from crypto_watcher import measure_watcher  # bench/ is sys.path[0] when run as a script
from twinrail.crypto.adapters.softhsm import DEFAULT_MODULE, SoftHsm
from twinrail.crypto.adapters.software_keystore import SoftwareKeyStore
from twinrail.crypto.service.ports import KeyStore
from twinrail.crypto.service.signer import TransactionSigner, recover_address

PIN = "bench-user-pin"


def _rate(fn: Callable[[bytes], object], digests: list[bytes]) -> float:
    fn(digests[0])  # warm up: first use opens handles and caches keys
    start = time.perf_counter()
    for digest in digests:
        fn(digest)
    return len(digests) / (time.perf_counter() - start)


def _measure(store: KeyStore, digests: list[bytes]) -> tuple[float, float]:
    address = store.create_key()
    signer = TransactionSigner(store)
    check = signer.sign_digest(address, digests[-1])
    assert recover_address(digests[-1], check) == address
    canonical = _rate(lambda d: signer.sign_digest(address, d), digests)
    raw = _rate(lambda d: store.sign_digest(address, d), digests)
    return canonical, raw


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=200)
    parser.add_argument("--blocks", type=int, default=5)
    parser.add_argument("--transfers", type=int, default=100)
    parser.add_argument("--database-url", default=None, help="PostgreSQL admin URL")
    args = parser.parse_args()
    digests = [keccak(f"bench message {i}".encode()) for i in range(args.messages)]

    with tempfile.TemporaryDirectory(prefix="twinrail-bench-crypto-") as tmp:
        hsm = SoftHsm(Path(tmp) / "softhsm")
        hsm.init_token("bench", so_pin="bench-so-pin", user_pin=PIN)
        hsm.activate()
        from twinrail.crypto.adapters.pkcs11_keystore import Pkcs11KeyStore

        hsm_store = Pkcs11KeyStore(DEFAULT_MODULE, "bench", PIN)
        software_store = SoftwareKeyStore(Path(tmp) / "keys", "bench passphrase", scrypt_n=2**14)
        try:
            hsm_rate, hsm_raw = _measure(hsm_store, digests)
            software_rate, software_raw = _measure(software_store, digests)
        finally:
            hsm_store.close()
            software_store.close()
    watcher = measure_watcher(args.blocks, args.transfers, args.database_url)

    print(
        json.dumps(
            {
                "hsm_signs_per_s": round(hsm_rate, 1),
                "software_signs_per_s": round(software_rate, 1),
                "ratio": round(hsm_rate / software_rate, 3),
                "hsm_raw_signs_per_s": round(hsm_raw, 1),
                "software_raw_signs_per_s": round(software_raw, 1),
                "messages": args.messages,
                **watcher,
            }
        )
    )


if __name__ == "__main__":
    main()
