"""web board: sign-in links and sessions

Revision ID: 0003_web_sessions
Revises: 0002_people_removal
Create Date: 2026-12-05
"""

import sqlalchemy as sa
import sqlmodel
import sqlmodel.sql.sqltypes
from alembic import op

import storage.models

revision = "0003_web_sessions"
down_revision = "0002_people_removal"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "weblink",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", storage.models.UTCDateTime(), nullable=True),
        sa.Column("expires_at", storage.models.UTCDateTime(), nullable=False),
        sa.Column("used_at", storage.models.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    with op.batch_alter_table("weblink", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_weblink_user_id"), ["user_id"], unique=False)
    op.create_table(
        "websession",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("csrf", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("created_at", storage.models.UTCDateTime(), nullable=True),
        sa.Column("last_seen", storage.models.UTCDateTime(), nullable=False),
        sa.Column("ended_at", storage.models.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    with op.batch_alter_table("websession", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_websession_user_id"), ["user_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("websession", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_websession_user_id"))
    op.drop_table("websession")
    with op.batch_alter_table("weblink", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_weblink_user_id"))
    op.drop_table("weblink")
