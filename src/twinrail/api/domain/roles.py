"""RBAC: roles, the permissions each holds, and who is bound to a tenant.

A `client` is a fintech's backend acting for its own customers: it is bound to its tenant and
sees nothing else. The other roles are the platform's staff and see every tenant; `auditor` only
reads, and `compliance_officer` writes only compliance work (KYC, false positives, cases).
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["Role", "Permission", "ROLE_PERMISSIONS", "role_allows", "is_tenant_bound"]


class Role(StrEnum):
    ADMIN = "admin"
    OPERATOR = "operator"
    COMPLIANCE_OFFICER = "compliance_officer"
    CLIENT = "client"
    AUDITOR = "auditor"


class Permission(StrEnum):
    CUSTOMERS_READ = "customers:read"
    CUSTOMERS_WRITE = "customers:write"
    ACCOUNTS_READ = "accounts:read"
    ACCOUNTS_WRITE = "accounts:write"
    API_KEYS_MANAGE = "api_keys:manage"
    CLIENTS_READ = "clients:read"
    CLIENTS_WRITE = "clients:write"
    SIGNING_KEYS_ROTATE = "signing_keys:rotate"
    PAYMENT_ORDERS_READ = "payment_orders:read"
    PAYMENT_ORDERS_WRITE = "payment_orders:write"
    PAYMENT_ORDERS_CANCEL = "payment_orders:cancel"
    WEBHOOKS_READ = "webhooks:read"
    WEBHOOKS_WRITE = "webhooks:write"
    WEBHOOKS_REPLAY = "webhooks:replay"
    # compliance (issue 7): KYC of a customer; screening, cases and lists (staff only)
    KYC_READ = "kyc:read"
    KYC_WRITE = "kyc:write"
    COMPLIANCE_READ = "compliance:read"
    COMPLIANCE_WRITE = "compliance:write"


_READ = {Permission.CUSTOMERS_READ, Permission.ACCOUNTS_READ, Permission.PAYMENT_ORDERS_READ}
_COMPLIANCE_READ = {Permission.KYC_READ, Permission.COMPLIANCE_READ}
# analysts work cases and KYC; the four-eyes rules compare the acting credentials
_COMPLIANCE_WRITE = _COMPLIANCE_READ | {Permission.KYC_WRITE, Permission.COMPLIANCE_WRITE}

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.ADMIN: frozenset(
        _READ
        | {
            Permission.CLIENTS_READ,
            Permission.CLIENTS_WRITE,
            Permission.SIGNING_KEYS_ROTATE,
            Permission.API_KEYS_MANAGE,
            Permission.PAYMENT_ORDERS_CANCEL,
            Permission.WEBHOOKS_READ,
            Permission.WEBHOOKS_REPLAY,
        }
        | _COMPLIANCE_WRITE
    ),
    Role.OPERATOR: frozenset(
        _READ
        | _COMPLIANCE_READ
        | {
            Permission.CLIENTS_READ,
            Permission.PAYMENT_ORDERS_CANCEL,
            Permission.WEBHOOKS_READ,
            Permission.WEBHOOKS_REPLAY,
        }
    ),
    Role.COMPLIANCE_OFFICER: frozenset(_READ | _COMPLIANCE_WRITE),
    Role.AUDITOR: frozenset(
        _READ | _COMPLIANCE_READ | {Permission.CLIENTS_READ, Permission.WEBHOOKS_READ}
    ),
    # Only a tenant creates customers, accounts and orders: they always belong to one.
    Role.CLIENT: frozenset(
        _READ
        | {
            Permission.CUSTOMERS_WRITE,
            Permission.ACCOUNTS_WRITE,
            Permission.API_KEYS_MANAGE,
            Permission.PAYMENT_ORDERS_WRITE,
            Permission.PAYMENT_ORDERS_CANCEL,
            Permission.WEBHOOKS_READ,
            Permission.WEBHOOKS_WRITE,
            Permission.WEBHOOKS_REPLAY,
            Permission.KYC_READ,
            Permission.KYC_WRITE,
        }
    ),
}


def role_allows(role: Role, permission: Permission) -> bool:
    """Whether `role` holds `permission`."""
    return permission in ROLE_PERMISSIONS[role]


def is_tenant_bound(role: Role) -> bool:
    """Whether callers in `role` see only their own tenant's resources."""
    return role is Role.CLIENT
