"""notifications: channels (e-mail, 钉钉, 企业微信 robots), each person's preferences, deliveries

Revision ID: c4a9e2f7d183
Revises: b17d4e2a9c61
Create Date: 2026-12-01 14:00:00.000000
"""

from alembic import op
import sqlalchemy as sa

from engine.tables import UtcDateTime


revision = 'c4a9e2f7d183'
down_revision = 'b17d4e2a9c61'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'notification_channel',
        sa.Column('id', sa.String(36), primary_key=True),
        sa.Column('kind', sa.String(20), nullable=False),
        sa.Column('name', sa.String(200), nullable=False),
        sa.Column('settings', sa.JSON(), nullable=False),
        sa.Column('secret', sa.String(500), nullable=True),
        sa.Column('active', sa.Boolean(), nullable=False),
        sa.Column('created_by', sa.String(200), nullable=True),
        sa.Column('created_at', UtcDateTime(), nullable=False),
        sa.Column('tenant', sa.String(64), nullable=True),
    )
    op.create_index('ix_notification_channel_tenant', 'notification_channel', ['tenant'])
    op.create_table(
        'notification_preference',
        sa.Column(
            'username',
            sa.String(200),
            sa.ForeignKey('app_user.username', ondelete='CASCADE'),
            primary_key=True,
        ),
        sa.Column('events', sa.JSON(), nullable=True),
        sa.Column('channels', sa.JSON(), nullable=True),
        sa.Column('email', sa.String(320), nullable=True),
        sa.Column('language', sa.String(10), nullable=False),
        sa.Column('quiet_start', sa.String(5), nullable=True),
        sa.Column('quiet_end', sa.String(5), nullable=True),
        sa.Column('updated_at', UtcDateTime(), nullable=False),
    )
    op.create_table(
        'notification_delivery',
        sa.Column('id', sa.String(36), primary_key=True),
        sa.Column(
            'channel_id',
            sa.String(36),
            sa.ForeignKey('notification_channel.id', ondelete='CASCADE'),
            nullable=False,
        ),
        sa.Column('event', sa.String(40), nullable=False),
        sa.Column('recipients', sa.JSON(), nullable=False),
        sa.Column('address', sa.String(320), nullable=True),
        sa.Column('subject', sa.String(500), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('task_id', sa.String(36), nullable=True),
        sa.Column('instance_id', sa.String(36), nullable=True),
        sa.Column('status', sa.String(20), nullable=False),
        sa.Column('attempts', sa.JSON(), nullable=False),
        sa.Column('job_id', sa.String(36), nullable=True),
        sa.Column('created_at', UtcDateTime(), nullable=False),
        sa.Column('not_before', UtcDateTime(), nullable=False),
        sa.Column('delivered_at', UtcDateTime(), nullable=True),
        sa.Column('tenant', sa.String(64), nullable=True),
    )
    op.create_index('ix_notification_delivery_tenant', 'notification_delivery', ['tenant', 'created_at'])
    op.create_index('ix_notification_delivery_channel', 'notification_delivery', ['channel_id', 'created_at'])


def downgrade() -> None:
    op.drop_index('ix_notification_delivery_channel', table_name='notification_delivery')
    op.drop_index('ix_notification_delivery_tenant', table_name='notification_delivery')
    op.drop_table('notification_delivery')
    op.drop_table('notification_preference')
    op.drop_index('ix_notification_channel_tenant', table_name='notification_channel')
    op.drop_table('notification_channel')
