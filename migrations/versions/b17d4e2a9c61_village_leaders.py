"""messages between instances (correlation keys on subscriptions); 总队长制: village leaders

Revision ID: b17d4e2a9c61
Revises: f7c1a9e3b5d2
Create Date: 2026-12-01 10:50:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = 'b17d4e2a9c61'
down_revision = 'f7c1a9e3b5d2'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('message_subscription') as batch:
        batch.add_column(sa.Column('correlations', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('message_subscription') as batch:
        batch.drop_column('correlations')
