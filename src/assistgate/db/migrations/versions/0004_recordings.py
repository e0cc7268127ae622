"""Recordings: the recording (hash, format, duration, retention, hold, block), attachments to
requests, the review queue and playback grants.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

UTC_TIME = sa.DateTime(timezone=True)


def _fk(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}")
    )


def upgrade() -> None:
    op.create_table(
        "recordings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("duration_seconds", sa.Float(), nullable=False),
        sa.Column("format", sa.String(length=16), nullable=False),
        sa.Column("codec", sa.String(length=32), nullable=False),
        sa.Column("sample_rate", sa.Integer(), nullable=False),
        sa.Column("channels", sa.Integer(), nullable=False),
        sa.Column("original_name", sa.String(length=255), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("received_at", UTC_TIME, nullable=False),
        sa.Column("received_by", sa.String(length=64), nullable=False),
        sa.Column("recorder_call_id", sa.String(length=100), nullable=True),
        sa.Column("call_started_at", UTC_TIME, nullable=True),
        sa.Column("call_ended_at", UTC_TIME, nullable=True),
        sa.Column("parties", sa.JSON(), nullable=False),
        sa.Column("retain_until", UTC_TIME, nullable=False),
        sa.Column("hold_reason", sa.Text(), nullable=True),
        sa.Column("blocked_reason", sa.Text(), nullable=True),
        sa.Column("purged_at", UTC_TIME, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recordings")),
        sa.UniqueConstraint("sha256", name=op.f("uq_recordings_sha256")),
    )
    op.create_table(
        "recording_attachments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("recording_id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("attached_at", UTC_TIME, nullable=False),
        sa.Column("attached_by", sa.String(length=64), nullable=False),
        _fk("recording_attachments", "recording_id", "recordings"),
        _fk("recording_attachments", "request_id", "requests"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recording_attachments")),
        sa.UniqueConstraint(
            "recording_id", "request_id", name=op.f("uq_recording_attachments_recording_id")
        ),
    )
    for column in ("recording_id", "request_id"):
        op.create_index(
            op.f(f"ix_recording_attachments_{column}"), "recording_attachments", [column]
        )
    op.create_table(
        "recording_reviews",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("recording_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("candidates", sa.JSON(), nullable=False),
        sa.Column("sidecar", sa.JSON(), nullable=False),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.Column("resolved_at", UTC_TIME, nullable=True),
        sa.Column("resolved_by", sa.String(length=64), nullable=True),
        sa.Column("resolved_ref", sa.String(length=32), nullable=True),
        _fk("recording_reviews", "recording_id", "recordings"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recording_reviews")),
    )
    op.create_index(
        op.f("ix_recording_reviews_recording_id"), "recording_reviews", ["recording_id"]
    )
    op.create_table(
        "recording_grants",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("recording_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("request_ref", sa.String(length=32), nullable=False),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.Column("expires_at", UTC_TIME, nullable=False),
        _fk("recording_grants", "recording_id", "recordings"),
        _fk("recording_grants", "user_id", "users"),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_recording_grants")),
    )


def downgrade() -> None:
    op.drop_table("recording_grants")
    op.drop_index(op.f("ix_recording_reviews_recording_id"), table_name="recording_reviews")
    op.drop_table("recording_reviews")
    for column in ("recording_id", "request_id"):
        op.drop_index(
            op.f(f"ix_recording_attachments_{column}"), table_name="recording_attachments"
        )
    op.drop_table("recording_attachments")
    op.drop_table("recordings")
