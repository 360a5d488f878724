"""crypto: a nonce reservation can be superseded (the chain used its nonce for another transaction)

Revision ID: crypto_0004
Revises: crypto_0003
"""

from __future__ import annotations

from alembic import op

revision = "crypto_0004"
down_revision = "crypto_0003"
branch_labels = None
depends_on = None

_TABLE = "crypto_nonce_reservations"
_NAME = "ck_crypto_nonce_reservations_status_known"
_WITH = "status IN ('reserved', 'signed', 'broadcast', 'mined', 'released', 'superseded')"
_WITHOUT = "status IN ('reserved', 'signed', 'broadcast', 'mined', 'released')"


def _replace_check(condition: str) -> None:
    # SQLite cannot alter a constraint: batch mode copies the table (CHECKs are reflected by name)
    with op.batch_alter_table(_TABLE, recreate="auto") as batch:
        batch.drop_constraint(op.f(_NAME), type_="check")
        batch.create_check_constraint(op.f(_NAME), condition)


def upgrade() -> None:
    _replace_check(_WITH)


def downgrade() -> None:
    op.execute(f"DELETE FROM {_TABLE} WHERE status = 'superseded'")
    _replace_check(_WITHOUT)
