"""claims as 滦南 makes them: a campaign's claim ranks, and the attachment store

Revision ID: f7c1a9e3b5d2
Revises: e5f9b3d7c2a4
Create Date: 2026-12-01 05:00:00.000000
"""

from alembic import op
import sqlalchemy as sa

from engine.tables import UtcDateTime


revision = 'f7c1a9e3b5d2'
down_revision = 'e5f9b3d7c2a4'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('campaign') as batch:
        batch.add_column(sa.Column('claim_ranks', sa.JSON(), nullable=True))
    op.create_table(
        'attachments',
        sa.Column('id', sa.String(36), primary_key=True),
        sa.Column('tenant', sa.String(64), nullable=True),
        sa.Column('instance_id', sa.String(36), sa.ForeignKey('instance.id'), nullable=False),
        sa.Column('kind', sa.String(20), nullable=False),
        sa.Column('filename', sa.String(255), nullable=False),
        sa.Column('content_type', sa.String(100), nullable=False),
        sa.Column('size', sa.Integer(), nullable=False),
        sa.Column('sha256', sa.String(64), nullable=False),
        sa.Column('uploaded_by', sa.String(200), nullable=False),
        sa.Column('created_at', UtcDateTime(), nullable=False),
        sa.Column('content', sa.LargeBinary(), nullable=False),
    )
    op.create_index('ix_attachments_instance', 'attachments', ['instance_id', 'created_at'])


def downgrade() -> None:
    op.drop_table('attachments')
    with op.batch_alter_table('campaign') as batch:
        batch.drop_column('claim_ranks')
