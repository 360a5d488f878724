"""The sandbox bank's HTTP edge: mutual TLS, certificate checks, NextGenPSD2 routes."""

from twinrail.sandbox.bank.http.app import create_bank_app
from twinrail.sandbox.bank.http.mtls import BankServer
from twinrail.sandbox.bank.http.security import QtspTrustFiles

__all__ = ["BankServer", "QtspTrustFiles", "create_bank_app"]
