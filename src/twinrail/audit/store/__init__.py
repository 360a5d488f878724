"""Persistence of the audit trail."""
