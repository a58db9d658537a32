"""who sees which instances: an index behind each way of being involved

Listing the instances a person may see reads the ids of each way in (started, worked, delegated,
copied, scored) as an index range; without these, counting the list visited every instance of the
tenant.

Revision ID: d2b7e4a1c9f3
Revises: c9e4a2d6f0b8
Create Date: 2026-12-01 17:30:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = 'd2b7e4a1c9f3'
down_revision = 'c9e4a2d6f0b8'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_instance_started_by', 'instance', ['started_by'])
    op.create_index('ix_human_task_completed_by', 'human_task', ['completed_by'])
    op.create_index(
        'ix_human_task_owner',
        'human_task',
        ['owner'],
        postgresql_where=sa.text('owner IS NOT NULL'),
        sqlite_where=sa.text('owner IS NOT NULL'),
    )
    op.create_index(
        'ix_audit_delegate_done',
        'audit_event',
        ['actor', 'instance_id'],
        postgresql_where=sa.text("event = 'task.delegate_done'"),
        sqlite_where=sa.text("event = 'task.delegate_done'"),
    )
    op.create_index('ix_score_user_instance', 'score_entry', ['username', 'instance_id'])


def downgrade() -> None:
    op.drop_index('ix_score_user_instance', table_name='score_entry')
    op.drop_index('ix_audit_delegate_done', table_name='audit_event')
    op.drop_index('ix_human_task_owner', table_name='human_task')
    op.drop_index('ix_human_task_completed_by', table_name='human_task')
    op.drop_index('ix_instance_started_by', table_name='instance')
