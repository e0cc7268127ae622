"""Monthly totals of calls for service, for the share of all calls that requests represent.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "calls_for_service_months",
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("calls", sa.BigInteger(), nullable=False),
        sa.Column("source", sa.String(length=300), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("month", name=op.f("pk_calls_for_service_months")),
    )


def downgrade() -> None:
    op.drop_table("calls_for_service_months")
