"""tenants: every object a tenant owns carries its tenant; instances their unit

Revision ID: e5f9b3d7c2a4
Revises: e5a9c3d7f2b4
Create Date: 2026-11-30 19:00:00.000000

NULL is the implicit tenant of everything written before the first tenant existed, so existing
rows need no backfill. ``task_candidate.tenant`` is ``''`` for it instead: the candidate queue is
one index range per (tenant, group), which an equality on a non-null column keeps.
"""

from alembic import op
import sqlalchemy as sa


revision = 'e5f9b3d7c2a4'
down_revision = 'e5a9c3d7f2b4'
branch_labels = None
depends_on = None

_TENANT_TABLES = (
    'definition', 'instance', 'human_task', 'carbon_copy', 'job', 'score_entry',
    'webhook', 'webhook_delivery', 'login_link',
)


def upgrade() -> None:
    # Plain ADD COLUMN everywhere (no batch copy): other tables reference these rows.
    for table in _TENANT_TABLES:
        op.add_column(table, sa.Column('tenant', sa.String(64), nullable=True))
    op.add_column('instance', sa.Column('unit', sa.String(64), nullable=True))
    op.add_column('task_candidate', sa.Column('tenant', sa.String(64), nullable=False, server_default=''))
    op.create_index('ix_definition_tenant', 'definition', ['tenant'])
    op.create_index('ix_instance_tenant_created', 'instance', ['tenant', 'created_at'])
    op.create_index('ix_instance_unit', 'instance', ['unit'])
    op.create_index('ix_score_tenant_period', 'score_entry', ['tenant', 'period'])
    op.create_index(
        'ix_task_candidate_tenant_group', 'task_candidate', ['tenant', 'group', 'created_at', 'task_id']
    )


def downgrade() -> None:
    op.drop_index('ix_task_candidate_tenant_group', 'task_candidate')
    op.drop_index('ix_score_tenant_period', 'score_entry')
    op.drop_index('ix_instance_unit', 'instance')
    op.drop_index('ix_instance_tenant_created', 'instance')
    op.drop_index('ix_definition_tenant', 'definition')
    op.drop_column('task_candidate', 'tenant')
    op.drop_column('instance', 'unit')
    for table in _TENANT_TABLES:
        op.drop_column(table, 'tenant')
