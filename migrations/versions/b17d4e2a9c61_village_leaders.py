"""messages between instances (correlation keys on subscriptions); 总队长制: village leaders

Revision ID: b17d4e2a9c61
Revises: 4e81f10a8229
Create Date: 2026-12-01 10:50:00.000000
"""

from alembic import op
import sqlalchemy as sa

from engine.tables import UtcDateTime


revision = 'b17d4e2a9c61'
down_revision = '4e81f10a8229'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('message_subscription') as batch:
        batch.add_column(sa.Column('correlations', sa.JSON(), nullable=True))
    op.create_table(
        'village_leader',
        sa.Column('id', sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column('tenant', sa.String(64), nullable=True),
        sa.Column('village', sa.String(64), nullable=False),
        sa.Column('leader', sa.String(200), nullable=False),
        sa.Column('current_village', sa.String(64), nullable=True, unique=True),
        sa.Column('instance_id', sa.String(36), nullable=False),
        sa.Column('letter_no', sa.String(80), nullable=False),
        sa.Column('letter', sa.JSON(), nullable=False),
        sa.Column('appointed_at', UtcDateTime(), nullable=False),
        sa.Column('confirmed_by', sa.String(200), nullable=True),
        sa.Column('ended_at', UtcDateTime(), nullable=True),
        sa.Column('ended_reason', sa.String(500), nullable=True),
    )
    op.create_index('ix_village_leader_tenant', 'village_leader', ['tenant'])
    op.create_index('ix_village_leader_leader', 'village_leader', ['leader'])
    op.create_index('ix_village_leader_village', 'village_leader', ['village', 'appointed_at'])
    op.create_table(
        'village_visit',
        sa.Column('id', sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column('tenant', sa.String(64), nullable=True),
        sa.Column('village', sa.String(64), nullable=False),
        sa.Column('username', sa.String(200), nullable=False),
        sa.Column('day', sa.String(10), nullable=False),
        sa.Column('nights', sa.Integer(), nullable=False),
        sa.Column('note', sa.String(2000), nullable=True),
        sa.Column('recorded_by', sa.String(200), nullable=False),
        sa.Column('created_at', UtcDateTime(), nullable=False),
    )
    op.create_index('ix_village_visit_tenant', 'village_visit', ['tenant'])
    op.create_index('ix_village_visit_username', 'village_visit', ['username'])
    op.create_index('ix_village_visit_village_day', 'village_visit', ['village', 'day'])
    op.create_table(
        'village_problem',
        sa.Column('instance_id', sa.String(36), primary_key=True),
        sa.Column('tenant', sa.String(64), nullable=True),
        sa.Column('village', sa.String(64), nullable=False),
        sa.Column('town', sa.String(64), nullable=True),
        sa.Column('title', sa.String(300), nullable=False),
        sa.Column('colour', sa.String(10), nullable=True),
        sa.Column('department', sa.String(64), nullable=True),
        sa.Column('phase', sa.String(20), nullable=False),
        sa.Column('status', sa.String(20), nullable=False),
        sa.Column('escalated', sa.Boolean(), nullable=False),
        sa.Column('overdue', sa.Boolean(), nullable=False),
        sa.Column('returns', sa.Integer(), nullable=False),
        sa.Column('raised_at', UtcDateTime(), nullable=False),
        sa.Column('due_at', UtcDateTime(), nullable=True),
        sa.Column('solved_at', UtcDateTime(), nullable=True),
    )
    op.create_index('ix_village_problem_open', 'village_problem', ['tenant', 'status', 'colour'])
    op.create_index('ix_village_problem_village', 'village_problem', ['village'])
    op.create_index('ix_village_problem_town', 'village_problem', ['town'])
    op.create_table(
        'village_problem_snapshot',
        sa.Column('id', sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column('tenant', sa.String(64), nullable=True),
        sa.Column('taken_at', UtcDateTime(), nullable=False),
        sa.Column('counts', sa.JSON(), nullable=False),
        sa.Column('rows', sa.JSON(), nullable=False),
    )
    op.create_index('ix_village_problem_snapshot', 'village_problem_snapshot', ['tenant', 'taken_at'])


def downgrade() -> None:
    op.drop_table('village_problem_snapshot')
    op.drop_table('village_problem')
    op.drop_table('village_visit')
    op.drop_table('village_leader')
    with op.batch_alter_table('message_subscription') as batch:
        batch.drop_column('correlations')
