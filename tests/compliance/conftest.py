"""Compliance fixtures: the published-format list files and a screening service per database."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine

import twinrail.compliance.store.tables  # noqa: F401  (registers the tables on the metadata)
from twinrail.compliance.service.screening_service import ScreeningService
from twinrail.compliance.service.settings import ComplianceSettings

FIXTURES = Path(__file__).parent / "fixtures"
OFAC = FIXTURES / "ofac_sdn.xml"
EU = FIXTURES / "eu_fsf.xml"
UN = FIXTURES / "un_sc.xml"
FTM = FIXTURES / "opensanctions.ftm.json"


@pytest.fixture
def service(engine: Engine, clock) -> ScreeningService:  # type: ignore[no-untyped-def]
    return ScreeningService(engine, settings=ComplianceSettings(), clock=clock, actor="test")


@pytest.fixture
def loaded(service: ScreeningService) -> ScreeningService:
    """A service with all four fixture lists loaded."""
    service.load_list("ofac-sdn", OFAC)
    service.load_list("eu-fsf", EU)
    service.load_list("un-sc", UN)
    service.load_list("ftm", FTM)
    return service
