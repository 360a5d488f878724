"""PIIS endpoint of NextGenPSD2 1.3.11: the confirmation of funds."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from twinrail.openbanking.domain.psd2 import Psd2Role
from twinrail.sandbox.bank.http.headers import json_body, require_request_id, tpp_with
from twinrail.sandbox.bank.service.funds_service import FundsConfirmationService

__all__ = ["router"]

router = APIRouter(prefix="/v1", tags=["PIIS"])


@router.post("/funds-confirmations")
async def confirm_funds(request: Request) -> Response:
    tpp_with(request, Psd2Role.PSP_IC)
    body = await json_body(request)
    funds: FundsConfirmationService = request.app.state.funds
    return JSONResponse(
        {"fundsAvailable": funds.funds_available(body)},
        headers={"X-Request-ID": require_request_id(request)},
    )
