"""token expiry and revocation, user active flag, web sessions, login throttling

Revision ID: b7c3e2a91d04
Revises: f11ca1ebab7b
Create Date: 2026-11-30 14:40:00.000000
"""

from alembic import op
import sqlalchemy as sa
import engine.tables


revision = 'b7c3e2a91d04'
down_revision = 'f11ca1ebab7b'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMN (no batch table copy): on SQLite a copy of app_user would cascade-delete
    # the rows that reference it (tokens, memberships, login links) while foreign keys are on.
    op.add_column('app_user', sa.Column('active', sa.Boolean(), server_default=sa.true(), nullable=False))
    op.add_column('api_token', sa.Column('expires_at', engine.tables.UtcDateTime(), nullable=True))
    op.add_column('api_token', sa.Column('revoked_at', engine.tables.UtcDateTime(), nullable=True))
    op.add_column('api_token', sa.Column('last_used_at', engine.tables.UtcDateTime(), nullable=True))

    op.create_table('web_session',
    sa.Column('id_hash', sa.String(length=64), nullable=False),
    sa.Column('username', sa.String(length=200), nullable=False),
    sa.Column('created_at', engine.tables.UtcDateTime(), nullable=False),
    sa.Column('last_seen_at', engine.tables.UtcDateTime(), nullable=False),
    sa.Column('revoked_at', engine.tables.UtcDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['username'], ['app_user.username'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id_hash')
    )
    with op.batch_alter_table('web_session', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_web_session_username'), ['username'], unique=False)

    op.create_table('login_failures',
    sa.Column('key', sa.String(length=80), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('last_failure_at', engine.tables.UtcDateTime(), nullable=False),
    sa.Column('locked_until', engine.tables.UtcDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('key')
    )
    with op.batch_alter_table('login_failures', schema=None) as batch_op:
        batch_op.create_index('ix_login_failures_last', ['last_failure_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('login_failures', schema=None) as batch_op:
        batch_op.drop_index('ix_login_failures_last')
    op.drop_table('login_failures')
    with op.batch_alter_table('web_session', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_web_session_username'))
    op.drop_table('web_session')
    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.drop_column('last_used_at')
        batch_op.drop_column('revoked_at')
        batch_op.drop_column('expires_at')
    with op.batch_alter_table('app_user', schema=None) as batch_op:
        batch_op.drop_column('active')
