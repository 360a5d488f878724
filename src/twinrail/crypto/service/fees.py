"""The fee estimator: EIP-1559 caps from the fee history, checked against the chain's caps."""

from __future__ import annotations

from twinrail.crypto.domain.fees import FeePolicy, check_fee_within_caps, estimate_fees
from twinrail.crypto.domain.transactions import FeeQuote
from twinrail.crypto.service.ports import ChainClient

__all__ = ["FeeEstimator"]


class FeeEstimator:
    """Prices transactions on one chain by its `FeePolicy`."""

    def __init__(self, chain: ChainClient, policy: FeePolicy, *, chain_id: int) -> None:
        self._chain = chain
        self.policy = policy
        self._chain_id = chain_id

    def quote(self) -> FeeQuote:
        """Fee caps for the next blocks (no cap check)."""
        history = self._chain.fee_history(
            self.policy.history_blocks, self.policy.priority_percentile
        )
        return estimate_fees(history, self.policy)

    def quote_for(self, gas_limit: int) -> FeeQuote:
        """Fee caps for a transaction of `gas_limit`; raises FeeCapExceeded above the caps."""
        quote = self.quote()
        check_fee_within_caps(quote, gas_limit, self.policy, self._chain_id)
        return quote
