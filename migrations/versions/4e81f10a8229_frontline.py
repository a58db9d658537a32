"""frontline: posts on the five front lines, who holds which, and each cadre's front-line record

Revision ID: 4e81f10a8229
Revises: a8d3f1c5e7b9
Create Date: 2026-12-01 11:00:00.000000
"""

from alembic import op
import sqlalchemy as sa

from engine.tables import UtcDateTime


revision = '4e81f10a8229'
down_revision = 'a8d3f1c5e7b9'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'frontline_post',
        sa.Column('id', sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column('tenant', sa.String(64), nullable=True),
        sa.Column('front_line', sa.String(30), nullable=False),
        sa.Column('unit', sa.String(64), nullable=False),
        sa.Column('title', sa.String(200), nullable=False),
        sa.Column('duties', sa.Text(), nullable=False),
        sa.Column('ranks', sa.JSON(), nullable=False),
        sa.Column('field', sa.String(100), nullable=True),
        sa.Column('capacity', sa.Integer(), nullable=False),
        sa.Column('rotation_months', sa.Integer(), nullable=True),
        sa.Column('supervisor', sa.String(200), nullable=False),
        sa.Column('active', sa.Boolean(), nullable=False),
        sa.Column('created_by', sa.String(200), nullable=True),
        sa.Column('created_at', UtcDateTime(), nullable=False),
    )
    op.create_index('ix_frontline_post_tenant', 'frontline_post', ['tenant'])
    op.create_table(
        'frontline_stint',
        sa.Column('id', sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column('tenant', sa.String(64), nullable=True),
        sa.Column('instance_id', sa.String(36), sa.ForeignKey('instance.id'), nullable=False),
        sa.Column('username', sa.String(200), nullable=False),
        sa.Column('post_id', sa.Integer(), sa.ForeignKey('frontline_post.id'), nullable=False),
        sa.Column('origin_unit', sa.String(64), nullable=True),
        sa.Column('rank', sa.String(50), nullable=True),
        sa.Column('started_at', UtcDateTime(), nullable=False),
        sa.Column('ended_at', UtcDateTime(), nullable=True),
        sa.Column('end_reason', sa.String(30), nullable=True),
    )
    op.create_index('ix_frontline_stint_tenant', 'frontline_stint', ['tenant'])
    op.create_index('ix_frontline_stint_instance_id', 'frontline_stint', ['instance_id'])
    op.create_index('ix_frontline_stint_post', 'frontline_stint', ['post_id', 'ended_at'])
    op.create_index(
        'uq_frontline_stint_open',
        'frontline_stint',
        ['username'],
        unique=True,
        postgresql_where=sa.text('ended_at IS NULL'),
        sqlite_where=sa.text('ended_at IS NULL'),
    )
    op.create_table(
        'frontline_entry',
        sa.Column('id', sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column('tenant', sa.String(64), nullable=True),
        sa.Column('instance_id', sa.String(36), sa.ForeignKey('instance.id'), nullable=False),
        sa.Column('username', sa.String(200), nullable=False),
        sa.Column('kind', sa.String(30), nullable=False),
        sa.Column('at', UtcDateTime(), nullable=False),
        sa.Column('by', sa.String(200), nullable=True),
        sa.Column('detail', sa.Text(), nullable=False),
        sa.Column('data', sa.JSON(), nullable=False),
    )
    op.create_index('ix_frontline_entry_instance_id', 'frontline_entry', ['instance_id'])
    op.create_index('ix_frontline_entry_person', 'frontline_entry', ['tenant', 'username', 'at'])


def downgrade() -> None:
    op.drop_table('frontline_entry')
    op.drop_table('frontline_stint')
    op.drop_table('frontline_post')
