"""people can be removed: how an admin became one; contact invites that replace

Revision ID: 0002_people_removal
Revises: 0001
Create Date: 2026-12-05
"""

import sqlalchemy as sa
import sqlmodel
import sqlmodel.sql.sqltypes
from alembic import op

revision = "0002_people_removal"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.add_column(sa.Column("admin_source", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True))
    with op.batch_alter_table("invite", schema=None) as batch_op:
        batch_op.add_column(sa.Column("replaces_contacts", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("invite", schema=None) as batch_op:
        batch_op.drop_column("replaces_contacts")
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.drop_column("admin_source")
