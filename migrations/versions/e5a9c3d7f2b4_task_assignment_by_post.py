"""assignment by post: the holder a post rule gave a task to, and why nobody could be given it

Revision ID: e5a9c3d7f2b4
Revises: e6b2d4f8a1c3
Create Date: 2026-11-30 19:20:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = 'e5a9c3d7f2b4'
down_revision = 'e6b2d4f8a1c3'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMN (no batch table copy): rows reference human_task.
    op.add_column('human_task', sa.Column('post_assignee', sa.String(200), nullable=True))
    op.add_column('human_task', sa.Column('unresolved', sa.JSON(), nullable=True))


def downgrade() -> None:
    op.drop_column('human_task', 'unresolved')
    op.drop_column('human_task', 'post_assignee')
