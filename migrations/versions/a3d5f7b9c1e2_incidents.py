"""incidents: what stopped an instance or a job, until it is retried; the task index by element and completion

Revision ID: a3d5f7b9c1e2
Revises: f7c1a9e3b5d2
Create Date: 2026-12-01 11:00:00.000000
"""

from alembic import op
import sqlalchemy as sa

from engine.tables import UtcDateTime


revision = 'a3d5f7b9c1e2'
down_revision = 'f7c1a9e3b5d2'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'incident',
        sa.Column('id', sa.String(36), primary_key=True),
        sa.Column('kind', sa.String(20), nullable=False),
        sa.Column('instance_id', sa.String(36), nullable=True),
        sa.Column('process_key', sa.String(200), nullable=True),
        sa.Column('element_id', sa.String(200), nullable=True),
        sa.Column('job_id', sa.String(36), nullable=True),
        sa.Column('message', sa.Text(), nullable=False),
        sa.Column('data', sa.JSON(), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('created_at', UtcDateTime(), nullable=False),
        sa.Column('updated_at', UtcDateTime(), nullable=False),
        sa.Column('resolved_at', UtcDateTime(), nullable=True),
        sa.Column('resolved_by', sa.String(200), nullable=True),
        sa.Column('resolution', sa.String(20), nullable=True),
        sa.Column('tenant', sa.String(64), nullable=True),
    )
    op.create_index('ix_incident_open', 'incident', ['resolved_at', 'created_at'])
    op.create_index('ix_incident_instance', 'incident', ['instance_id'])
    op.create_index(
        'ix_human_task_key_element_done', 'human_task', ['process_key', 'element_id', 'completed_at']
    )


def downgrade() -> None:
    op.drop_index('ix_human_task_key_element_done', 'human_task')
    op.drop_table('incident')
