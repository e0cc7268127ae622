"""The mark "must change the password at next sign-in" becomes a column of its own.

Revision 0002 marked a password set by an administrator by a prefix on its stored hash; this
revision moves the mark into `users.password_must_change` and strips the prefix, so that the
hash column holds nothing but the Argon2 hash.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

MARK = "must-change$"

users = sa.table(
    "users",
    sa.column("id", sa.Integer()),
    sa.column("password_hash", sa.String()),
    sa.column("password_must_change", sa.Boolean()),
)


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(
            sa.Column(
                "password_must_change", sa.Boolean(), nullable=False, server_default=sa.false()
            )
        )
    connection = op.get_bind()
    marked = connection.execute(
        sa.select(users.c.id, users.c.password_hash).where(users.c.password_hash.like(MARK + "%"))
    ).all()
    for user_id, stored in marked:
        connection.execute(
            users.update()
            .where(users.c.id == user_id)
            .values(password_hash=stored.removeprefix(MARK), password_must_change=True)
        )


def downgrade() -> None:
    connection = op.get_bind()
    marked = connection.execute(
        sa.select(users.c.id, users.c.password_hash).where(users.c.password_must_change)
    ).all()
    for user_id, stored in marked:
        connection.execute(
            users.update().where(users.c.id == user_id).values(password_hash=MARK + stored)
        )
    with op.batch_alter_table("users") as batch:
        batch.drop_column("password_must_change")
