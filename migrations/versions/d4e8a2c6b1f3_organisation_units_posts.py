"""the organisation: unit trees (a root is a tenant), people's posts, the user's tenant

Revision ID: d4e8a2c6b1f3
Revises: c3f1a5d7e920
Create Date: 2026-11-30 18:45:00.000000
"""

from alembic import op
import sqlalchemy as sa

from engine.tables import UtcDateTime


revision = 'd4e8a2c6b1f3'
down_revision = 'c3f1a5d7e920'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'unit',
        sa.Column('id', sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column('code', sa.String(64), nullable=False, unique=True),
        sa.Column('name', sa.String(300), nullable=False),
        sa.Column('kind', sa.String(20), nullable=False),
        sa.Column('parent_id', sa.Integer(), sa.ForeignKey('unit.id'), nullable=True),
        sa.Column('tenant', sa.String(64), nullable=False),
        sa.Column('path', sa.String(1000), nullable=False),
        sa.Column('attributes', sa.JSON(), nullable=False),
        sa.Column('created_at', UtcDateTime(), nullable=False),
        sa.Column('updated_at', UtcDateTime(), nullable=False),
    )
    op.create_index('ix_unit_parent_id', 'unit', ['parent_id'])
    op.create_index('ix_unit_tenant', 'unit', ['tenant'])
    op.create_index('ix_unit_path', 'unit', ['path'])
    op.create_table(
        'user_post',
        sa.Column('id', sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column('username', sa.String(200), sa.ForeignKey('app_user.username', ondelete='CASCADE'), nullable=False),
        sa.Column('unit_id', sa.Integer(), sa.ForeignKey('unit.id'), nullable=False),
        sa.Column('post', sa.String(100), nullable=False),
        sa.Column('rank', sa.String(50), nullable=True),
        sa.UniqueConstraint('username', 'unit_id', 'post'),
    )
    op.create_index('ix_user_post_username', 'user_post', ['username'])
    op.create_index('ix_user_post_unit_post', 'user_post', ['unit_id', 'post'])
    # Plain ADD COLUMN (no batch copy): rows reference app_user.
    op.add_column('app_user', sa.Column('tenant', sa.String(64), nullable=True))
    op.create_index('ix_app_user_tenant', 'app_user', ['tenant'])


def downgrade() -> None:
    op.drop_index('ix_app_user_tenant', 'app_user')
    op.drop_column('app_user', 'tenant')
    op.drop_table('user_post')
    op.drop_table('unit')
