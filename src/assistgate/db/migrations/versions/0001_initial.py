"""Initial schema: users, requests, decisions, and the ledger.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

UTC_TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("display_name", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("extension", sa.String(length=32), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("username", name=op.f("uq_users_username")),
    )
    op.create_table(
        "requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ref", sa.String(length=32), nullable=False),
        sa.Column("cad_incident_id", sa.String(length=64), nullable=True),
        sa.Column("received_at", UTC_TIME, nullable=False),
        sa.Column("state", sa.String(length=32), nullable=False),
        sa.Column("agency", sa.String(length=32), nullable=False),
        sa.Column("official_name", sa.String(length=200), nullable=False),
        sa.Column("official_badge", sa.String(length=100), nullable=False),
        sa.Column("callback_number", sa.String(length=40), nullable=False),
        sa.Column("identity_check", sa.String(length=40), nullable=False),
        sa.Column("identity_note", sa.Text(), nullable=False),
        sa.Column("location", sa.String(length=200), nullable=False),
        sa.Column("district", sa.String(length=40), nullable=False),
        sa.Column("caller_words", sa.Text(), nullable=False),
        sa.Column("requested_actions", sa.JSON(), nullable=False),
        sa.Column("call_taker", sa.String(length=64), nullable=False),
        sa.Column("commander", sa.String(length=64), nullable=True),
        sa.Column("decision_id", sa.Integer(), nullable=True),
        sa.Column("dispatched_at", UTC_TIME, nullable=True),
        sa.Column("units", sa.JSON(), nullable=False),
        sa.Column("arrived_at", UTC_TIME, nullable=True),
        sa.Column("cleared_at", UTC_TIME, nullable=True),
        sa.Column("recording_sha256", sa.String(length=64), nullable=True),
        sa.Column("exceptions", sa.JSON(), nullable=False),
        sa.Column("flagged_for_review", sa.Boolean(), nullable=False),
        sa.Column("outcome", sa.JSON(), nullable=True),
        sa.Column("closed_at", UTC_TIME, nullable=True),
        sa.Column("cancel_reason", sa.Text(), nullable=False),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_requests")),
        sa.UniqueConstraint("cad_incident_id", name=op.f("uq_requests_cad_incident_id")),
        sa.UniqueConstraint("ref", name=op.f("uq_requests_ref")),
    )
    op.create_index(op.f("ix_requests_state"), "requests", ["state"])
    op.create_table(
        "decisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("decided_at", UTC_TIME, nullable=False),
        sa.Column("decided_by", sa.String(length=64), nullable=False),
        sa.Column("assessment", sa.JSON(), nullable=False),
        sa.Column("answer", sa.JSON(), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("approved_actions", sa.JSON(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("engine_version", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["request_id"], ["requests.id"], name=op.f("fk_decisions_request_id_requests")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_decisions")),
    )
    op.create_index(op.f("ix_decisions_request_id"), "decisions", ["request_id"])
    op.create_table(
        "ledger_entries",
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("at", sa.String(length=32), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("event", sa.String(length=64), nullable=False),
        sa.Column("subject", sa.String(length=64), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("leaf_hash", sa.LargeBinary(length=32), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_ledger_entries")),
    )
    op.create_index(op.f("ix_ledger_entries_subject"), "ledger_entries", ["subject"])
    head = op.create_table(
        "ledger_head",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("stack", sa.JSON(), nullable=False),
        sa.Column("last_at", sa.String(length=32), nullable=False),
        sa.Column("checkpoint", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_head")),
    )
    # The one head row every append locks; an empty ledger has size 0.
    op.bulk_insert(head, [{"id": 1, "size": 0, "stack": [], "last_at": "", "checkpoint": None}])
    op.create_table(
        "ledger_checkpoints",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("signed", sa.JSON(), nullable=False),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_checkpoints")),
    )
    op.create_index(op.f("ix_ledger_checkpoints_size"), "ledger_checkpoints", ["size"])


def downgrade() -> None:
    for table in ("ledger_checkpoints", "ledger_head", "ledger_entries", "decisions",
                  "requests", "users"):  # fmt: skip
        op.drop_table(table)
