"""campaigns: a year's list of problems, and the link from a campaign to its problems' instances

Revision ID: e6b2d4f8a1c3
Revises: d4e8a2c6b1f3
Create Date: 2026-11-30 19:20:00.000000
"""

from alembic import op
import sqlalchemy as sa

from engine.tables import UtcDateTime


revision = 'e6b2d4f8a1c3'
down_revision = 'd4e8a2c6b1f3'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'campaign',
        sa.Column('id', sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column('tenant', sa.String(64), nullable=True),
        sa.Column('title', sa.String(300), nullable=False),
        sa.Column('year', sa.Integer(), nullable=False),
        sa.Column('organiser_unit', sa.String(64), nullable=False),
        sa.Column('process_key', sa.String(200), nullable=False),
        sa.Column('categories', sa.JSON(), nullable=False),
        sa.Column('submission_deadline', UtcDateTime(), nullable=True),
        sa.Column('key_prefix', sa.String(40), nullable=False, unique=True),
        sa.Column('list_approved', sa.Boolean(), nullable=False),
        sa.Column('claim_window', sa.String(40), nullable=False),
        sa.Column('report_interval', sa.String(40), nullable=False),
        sa.Column('created_by', sa.String(200), nullable=True),
        sa.Column('created_at', UtcDateTime(), nullable=False),
    )
    op.create_index('ix_campaign_tenant', 'campaign', ['tenant'])
    op.create_table(
        'campaign_problem',
        sa.Column('instance_id', sa.String(36), sa.ForeignKey('instance.id'), primary_key=True),
        sa.Column('campaign_id', sa.Integer(), sa.ForeignKey('campaign.id'), nullable=False),
        sa.Column('number', sa.Integer(), nullable=False),
        sa.Column('category', sa.String(100), nullable=False),
        sa.Column('lead_unit', sa.String(64), nullable=True),
        sa.Column('status', sa.String(30), nullable=False),
        sa.Column('created_at', UtcDateTime(), nullable=False),
        sa.Column('deadline', UtcDateTime(), nullable=True),
        sa.Column('claimed_at', UtcDateTime(), nullable=True),
        sa.Column('solved_at', UtcDateTime(), nullable=True),
        sa.Column('people', sa.JSON(), nullable=False),
        sa.UniqueConstraint('campaign_id', 'number'),
    )
    op.create_index('ix_campaign_problem_campaign_category', 'campaign_problem', ['campaign_id', 'category'])
    op.create_index('ix_campaign_problem_campaign_unit', 'campaign_problem', ['campaign_id', 'lead_unit'])


def downgrade() -> None:
    op.drop_table('campaign_problem')
    op.drop_table('campaign')
