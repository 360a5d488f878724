"""The sandbox bank's ASGI application."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import FastAPI

from twinrail.openbanking.domain.certificates import QtspTrust
from twinrail.platform.clock import Clock
from twinrail.sandbox.bank.http.ais_routes import router as ais_router
from twinrail.sandbox.bank.http.errors import install_error_handlers
from twinrail.sandbox.bank.http.security import TppAuthenticator
from twinrail.sandbox.bank.service.bank_service import BankService

__all__ = ["create_bank_app"]


def create_bank_app(bank: BankService, trust: Callable[[], QtspTrust], clock: Clock) -> FastAPI:
    """A NextGenPSD2 ASPSP over `bank`, trusting the QTSP that `trust` describes."""
    app = FastAPI(
        title="twinrail sandbox bank (NextGenPSD2 1.3.11)",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,  # the official definition is the contract, not a generated one
    )
    app.state.bank = bank
    app.state.authenticator = TppAuthenticator(trust, clock)
    install_error_handlers(app)
    app.include_router(ais_router)
    return app
