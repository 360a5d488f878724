"""The sandbox bank's ASGI application."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request, Response
from starlette.concurrency import run_in_threadpool

from twinrail.openbanking.domain.certificates import QtspTrust
from twinrail.platform.clock import Clock
from twinrail.sandbox.bank.http.ais_routes import router as ais_router
from twinrail.sandbox.bank.http.errors import install_error_handlers
from twinrail.sandbox.bank.http.periodic_routes import router as periodic_router
from twinrail.sandbox.bank.http.piis_routes import router as piis_router
from twinrail.sandbox.bank.http.pis_routes import router as pis_router
from twinrail.sandbox.bank.http.security import TppAuthenticator
from twinrail.sandbox.bank.http.signatures import SignatureCheck
from twinrail.sandbox.bank.profile import BankProfile
from twinrail.sandbox.bank.service.bank_service import BankService
from twinrail.sandbox.bank.service.funds_service import FundsConfirmationService
from twinrail.sandbox.bank.service.payment_service import PaymentService
from twinrail.sandbox.bank.service.periodic_service import PeriodicPaymentService

__all__ = ["create_bank_app"]


def create_bank_app(
    bank: BankService,
    trust: Callable[[], QtspTrust],
    clock: Clock,
    profile: BankProfile | None = None,
) -> FastAPI:
    """A NextGenPSD2 ASPSP over `bank`, trusting the QTSP that `trust` describes, behaving as
    `profile` says (the default profile when None)."""
    app = FastAPI(
        title="twinrail sandbox bank (NextGenPSD2 1.3.11)",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,  # the official definition is the contract, not a generated one
    )
    app.state.bank = bank
    app.state.payments = PaymentService(bank)
    app.state.periodic_payments = PeriodicPaymentService(bank)
    app.state.funds = FundsConfirmationService(bank.engine, bank.clock)
    app.state.authenticator = TppAuthenticator(trust, clock)
    app.state.profile = profile or BankProfile(name="default")
    app.state.payments.booked_amount_change = app.state.profile.quirks.pending_amount_change_minor
    install_error_handlers(app)
    app.include_router(ais_router)
    app.include_router(pis_router)
    app.include_router(periodic_router)
    app.include_router(piis_router)
    _settle_before_account_reads(app)
    if app.state.profile.signatures_required:
        app.add_middleware(SignatureCheck, authenticator=app.state.authenticator)
    return app


def _settle_before_account_reads(app: FastAPI) -> None:
    # Settlement happens in sandbox time, lazily: whoever looks at accounts sees every payment
    # whose delay has passed as booked, however far a test moved the clock.
    payments: PaymentService = app.state.payments
    orders: PeriodicPaymentService = app.state.periodic_payments

    @app.middleware("http")
    async def settle(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        if request.url.path.startswith("/v1/accounts"):
            await run_in_threadpool(payments.settle_due)
            await run_in_threadpool(orders.execute_due)  # standing orders run on their days
        return await call_next(request)
