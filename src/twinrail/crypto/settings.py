"""The crypto context's configuration: chains, tokens and custody, from `TWINRAIL_CRYPTO_*`.

Chains are a JSON list, e.g. TWINRAIL_CRYPTO_CHAINS='[{"chain_id": 31337, "name": "anvil",
"rpc_url": "http://127.0.0.1:8545", "confirmations": 2, "tokens": [{"symbol": "USDC",
"address": "0x…", "decimals": 6}]}]'. PINs and passphrases are `SecretStr`: they print as stars.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from twinrail.crypto.domain.chains import Chain, ChainRegistry, FinalitySource, NativeAsset, Token
from twinrail.crypto.domain.fees import FeePolicy
from twinrail.settings import get_settings

__all__ = ["TokenConfig", "ChainConfig", "CryptoSettings", "DEFAULT_CHAIN_ID"]

DEFAULT_CHAIN_ID = 31337  # anvil's own default: wallets and tools recognise it as a dev chain


class TokenConfig(BaseModel):
    """An ERC-20 listed on a chain."""

    symbol: str
    address: str
    decimals: int = Field(ge=0, le=36)

    def to_domain(self) -> Token:
        return Token(symbol=self.symbol, address=self.address, decimals=self.decimals)


class ChainConfig(BaseModel):
    """One chain: RPC endpoint, confirmations and finality, its native asset and tokens."""

    chain_id: int = Field(gt=0)
    name: str
    rpc_url: str
    confirmations: int = Field(default=12, ge=0)
    finality: FinalitySource = FinalitySource.DEPTH
    native_symbol: str = "ETH"
    native_decimals: int = 18
    tokens: list[TokenConfig] = Field(default_factory=list)
    rpc_timeout_s: float = Field(default=10.0, gt=0)
    priority_fee_percentile: float = Field(default=50.0, ge=0, le=100)
    min_priority_fee_wei: int = Field(default=100_000_000, ge=0)
    base_fee_headroom_percent: int = Field(default=200, ge=100)
    max_fee_per_gas_cap_wei: int | None = Field(default=None, gt=0)
    max_fee_cap_wei: int | None = Field(default=None, gt=0)
    sweep_thresholds: dict[str, int] = Field(
        default_factory=dict,
        description="Token symbol -> minor units: deposit balances from there on are swept.",
    )
    sweep_gas_headroom_percent: int = Field(default=150, ge=100)

    def fee_policy(self) -> FeePolicy:
        """How the fee estimator prices and caps transactions on this chain."""
        return FeePolicy(
            priority_percentile=self.priority_fee_percentile,
            min_priority_fee=self.min_priority_fee_wei,
            base_fee_headroom_percent=self.base_fee_headroom_percent,
            max_fee_per_gas_cap=self.max_fee_per_gas_cap_wei,
            max_fee_cap=self.max_fee_cap_wei,
        )

    def to_domain(self) -> Chain:
        return Chain(
            chain_id=self.chain_id,
            name=self.name,
            rpc_url=self.rpc_url,
            confirmations=self.confirmations,
            finality=self.finality,
            native=NativeAsset(self.native_symbol, self.native_decimals),
            tokens=tuple(t.to_domain() for t in self.tokens),
            rpc_timeout_s=self.rpc_timeout_s,
        )


def _default_chains() -> list[ChainConfig]:
    return [
        ChainConfig(
            chain_id=DEFAULT_CHAIN_ID,
            name="anvil",
            rpc_url="http://127.0.0.1:8545",
            confirmations=2,
            finality=FinalitySource.DEPTH,
        )
    ]


class CryptoSettings(BaseSettings):
    """Crypto configuration; defaults are the embedded set-up (anvil, software key store)."""

    model_config = SettingsConfigDict(
        env_prefix="TWINRAIL_CRYPTO_", env_file=".env", extra="ignore"
    )

    chains: list[ChainConfig] = Field(default_factory=_default_chains)
    key_store: Literal["software", "pkcs11"] = "software"
    key_dir: Path | None = Field(default=None, description="Software keys; <var_dir>/crypto/keys.")
    key_passphrase: SecretStr = Field(
        default=SecretStr("twinrail-development-only"),
        description="Encrypts software key files (scrypt). Development default: change it.",
    )
    scrypt_n: int = Field(default=2**15, ge=2**10)
    pkcs11_module: str = "/usr/lib/softhsm/libsofthsm2.so"
    softhsm_dir: Path | None = Field(default=None, description="SoftHSM2; <var_dir>/softhsm.")
    hsm_token_label: str = "twinrail"
    hsm_pin: SecretStr = SecretStr("twinrail-user-pin")
    hsm_so_pin: SecretStr = SecretStr("twinrail-so-pin")
    withdrawal_stuck_after_s: float = Field(
        default=120.0, gt=0, description="A withdrawal not mined this long is replaced."
    )
    withdrawal_interval_s: float = Field(default=1.0, gt=0, description="Withdrawal loop pace.")
    sweep_interval_s: float = Field(default=60.0, gt=0, description="Sweep loop pace.")
    charge_expiry_interval_s: float = Field(default=5.0, gt=0, description="Charge expiry pace.")

    def registry(self) -> ChainRegistry:
        """The configured chains as a domain registry."""
        return ChainRegistry(c.to_domain() for c in self.chains)

    def chain_config(self, chain_id: int) -> ChainConfig | None:
        """The configuration of `chain_id` (fee caps and all), if configured."""
        return next((c for c in self.chains if c.chain_id == chain_id), None)

    def default_chain(self) -> Chain:
        """The first configured chain: the one `twinrail chain up` starts locally."""
        return self.chains[0].to_domain()

    def resolved_key_dir(self) -> Path:
        return self.key_dir or get_settings().var_dir / "crypto" / "keys"

    def resolved_softhsm_dir(self) -> Path:
        return self.softhsm_dir or get_settings().var_dir / "softhsm"
