"""Application layer of the sandbox bank."""

from twinrail.sandbox.bank.service.bank_service import AccountView, AisRequest, BankService

__all__ = ["AccountView", "AisRequest", "BankService"]
