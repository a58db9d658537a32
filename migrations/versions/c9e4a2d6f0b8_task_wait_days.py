"""where work waits: each finished day's waits per element, as a histogram

Revision ID: c9e4a2d6f0b8
Revises: c4a9e2f7d183
Create Date: 2026-12-01 15:00:00.000000
"""

from alembic import op
import sqlalchemy as sa

from engine.tables import UtcDateTime


revision = 'c9e4a2d6f0b8'
down_revision = 'c4a9e2f7d183'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'task_wait_day',
        sa.Column('id', sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('process_key', sa.String(200), nullable=False),
        sa.Column('element_id', sa.String(200), nullable=False),
        sa.Column('tenant', sa.String(64), nullable=True),
        sa.Column('passed', sa.Integer(), nullable=False),
        sa.Column('buckets', sa.JSON(), nullable=False),
    )
    op.create_index('ix_task_wait_day_key_day', 'task_wait_day', ['process_key', 'day'])
    op.create_table(
        'task_wait_day_done',
        sa.Column('day', sa.Date(), primary_key=True),
        sa.Column('counted_at', UtcDateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table('task_wait_day_done')
    op.drop_index('ix_task_wait_day_key_day', table_name='task_wait_day')
    op.drop_table('task_wait_day')
