"""The crypto context's composition root: key store and chain client from settings."""

from __future__ import annotations

from typing import TYPE_CHECKING

from twinrail.crypto.domain.chains import Chain
from twinrail.crypto.service.ports import ChainClient, KeyStore
from twinrail.crypto.settings import CryptoSettings

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from twinrail.crypto.adapters.withdrawal_rail import WithdrawalRail
    from twinrail.ledger.service.ledger_service import LedgerService

__all__ = ["open_key_store", "open_chain_client", "build_withdrawal_rail"]


def open_key_store(settings: CryptoSettings) -> KeyStore:
    """The configured key store: PKCS#11 (SoftHSM2 under the project) or software."""
    if settings.key_store == "pkcs11":
        from twinrail.crypto.adapters.pkcs11_keystore import Pkcs11KeyStore
        from twinrail.crypto.adapters.softhsm import SoftHsm

        if settings.pkcs11_module.endswith("libsofthsm2.so"):
            SoftHsm(settings.resolved_softhsm_dir()).activate()
        return Pkcs11KeyStore(
            settings.pkcs11_module,
            settings.hsm_token_label,
            settings.hsm_pin.get_secret_value(),
        )
    from twinrail.crypto.adapters.software_keystore import SoftwareKeyStore

    return SoftwareKeyStore(
        settings.resolved_key_dir(),
        settings.key_passphrase.get_secret_value(),
        scrypt_n=settings.scrypt_n,
    )


def open_chain_client(chain: Chain) -> ChainClient:
    """A JSON-RPC client for the chain, with the chain's configured request timeout."""
    from twinrail.crypto.adapters.evm_rpc import Web3ChainClient

    return Web3ChainClient(chain.rpc_url, timeout_s=chain.rpc_timeout_s)


def build_withdrawal_rail(
    engine: Engine, ledger: LedgerService, settings: CryptoSettings
) -> WithdrawalRail:
    """The pipeline's rail for `crypto_withdrawal` orders over the configured chains."""
    from twinrail.crypto.adapters.withdrawal_rail import WithdrawalRail
    from twinrail.crypto.service.withdrawals import WithdrawalService

    return WithdrawalRail(WithdrawalService(engine, ledger, settings.registry()))
