"""appraisal: ledger subjects (person or unit), periods YYYY-MM / YYYY-Qn / YYYY, dimensions;
schemes, scoring panels, award lists under publicity, objections and awards

Revision ID: a8d3f1c5e7b9
Revises: a3d5f7b9c1e2
Create Date: 2026-12-01 10:40:00.000000
"""

from alembic import op
import sqlalchemy as sa

from engine.tables import UtcDateTime


revision = 'a8d3f1c5e7b9'
down_revision = 'a3d5f7b9c1e2'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('score_entry') as batch:
        batch.alter_column('period', existing_type=sa.String(7), type_=sa.String(10), existing_nullable=False)
        batch.alter_column('username', existing_type=sa.String(200), nullable=True)
        batch.alter_column('instance_id', existing_type=sa.String(36), nullable=True)
        batch.add_column(sa.Column('subject_kind', sa.String(10), nullable=False, server_default='person'))
        batch.add_column(sa.Column('subject', sa.String(200), nullable=True))
        batch.add_column(sa.Column('dimension', sa.String(64), nullable=True))
        batch.add_column(sa.Column('scheme', sa.String(64), nullable=True))
    op.execute("UPDATE score_entry SET subject = username, subject_kind = 'person'")
    with op.batch_alter_table('score_entry') as batch:
        batch.alter_column('subject', existing_type=sa.String(200), nullable=False)
    op.create_index('ix_score_subject', 'score_entry', ['subject_kind', 'subject', 'period'])

    op.create_table(
        'appraisal_scheme',
        sa.Column('id', sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column('tenant', sa.String(64), nullable=True),
        sa.Column('name', sa.String(64), nullable=False),
        sa.Column('definition', sa.JSON(), nullable=False),
        sa.Column('campaign_id', sa.Integer(), sa.ForeignKey('campaign.id'), nullable=True),
        sa.Column('process_key', sa.String(200), nullable=True),
        sa.Column('created_by', sa.String(200), nullable=True),
        sa.Column('created_at', UtcDateTime(), nullable=False),
        sa.UniqueConstraint('tenant', 'name'),
    )
    op.create_table(
        'appraisal_panel',
        sa.Column('id', sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column('tenant', sa.String(64), nullable=True),
        sa.Column('scheme', sa.String(64), nullable=False),
        sa.Column('definition', sa.JSON(), nullable=False),
        sa.Column('period', sa.String(10), nullable=False),
        sa.Column('subject_kind', sa.String(10), nullable=False),
        sa.Column('subjects', sa.JSON(), nullable=False),
        sa.Column('scorers', sa.JSON(), nullable=False),
        sa.Column('status', sa.String(10), nullable=False),
        sa.Column('instance_id', sa.String(36), nullable=True),
        sa.Column('opened_by', sa.String(200), nullable=True),
        sa.Column('opened_at', UtcDateTime(), nullable=False),
        sa.Column('closed_at', UtcDateTime(), nullable=True),
    )
    op.create_index('ix_appraisal_panel_tenant', 'appraisal_panel', ['tenant'])
    op.create_table(
        'appraisal_score',
        sa.Column('id', sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column('panel_id', sa.Integer(), sa.ForeignKey('appraisal_panel.id'), nullable=False),
        sa.Column('scorer', sa.String(200), nullable=False),
        sa.Column('subject', sa.String(200), nullable=False),
        sa.Column('scores', sa.JSON(), nullable=False),
        sa.Column('submitted_at', UtcDateTime(), nullable=False),
        sa.UniqueConstraint('panel_id', 'scorer', 'subject'),
    )
    op.create_index('ix_appraisal_score_panel_id', 'appraisal_score', ['panel_id'])
    op.create_table(
        'award_list',
        sa.Column('id', sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column('tenant', sa.String(64), nullable=True),
        sa.Column('kind', sa.String(64), nullable=False),
        sa.Column('period', sa.String(10), nullable=False),
        sa.Column('subject_kind', sa.String(10), nullable=False),
        sa.Column('scheme', sa.String(64), nullable=True),
        sa.Column('quota', sa.Integer(), nullable=False),
        sa.Column('entries', sa.JSON(), nullable=False),
        sa.Column('reserve', sa.JSON(), nullable=False),
        sa.Column('status', sa.String(10), nullable=False),
        sa.Column('instance_id', sa.String(36), nullable=True),
        sa.Column('proposed_by', sa.String(200), nullable=True),
        sa.Column('proposed_at', UtcDateTime(), nullable=False),
        sa.Column('window_ends', UtcDateTime(), nullable=False),
        sa.Column('finalised_at', UtcDateTime(), nullable=True),
    )
    op.create_index('ix_award_list_tenant_period', 'award_list', ['tenant', 'period'])
    op.create_table(
        'award_objection',
        sa.Column('id', sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column('list_id', sa.Integer(), sa.ForeignKey('award_list.id'), nullable=False),
        sa.Column('subject', sa.String(200), nullable=False),
        sa.Column('reason', sa.String(2000), nullable=False),
        sa.Column('filed_by', sa.String(200), nullable=False),
        sa.Column('filed_at', UtcDateTime(), nullable=False),
        sa.Column('status', sa.String(10), nullable=False),
        sa.Column('note', sa.String(2000), nullable=True),
        sa.Column('handled_by', sa.String(200), nullable=True),
        sa.Column('handled_at', UtcDateTime(), nullable=True),
    )
    op.create_index('ix_award_objection_list_id', 'award_objection', ['list_id'])
    op.create_table(
        'award',
        sa.Column('id', sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column('tenant', sa.String(64), nullable=True),
        sa.Column('kind', sa.String(64), nullable=False),
        sa.Column('subject_kind', sa.String(10), nullable=False),
        sa.Column('subject', sa.String(200), nullable=False),
        sa.Column('period', sa.String(10), nullable=False),
        sa.Column('reason', sa.String(2000), nullable=False),
        sa.Column('rank', sa.Integer(), nullable=True),
        sa.Column('list_id', sa.Integer(), sa.ForeignKey('award_list.id'), nullable=True),
        sa.Column('instance_id', sa.String(36), nullable=True),
        sa.Column('given_at', UtcDateTime(), nullable=False),
        sa.Column('given_by', sa.String(200), nullable=True),
    )
    op.create_index('ix_award_tenant_period', 'award', ['tenant', 'period', 'kind'])


def downgrade() -> None:
    op.drop_table('award')
    op.drop_table('award_objection')
    op.drop_table('award_list')
    op.drop_table('appraisal_score')
    op.drop_table('appraisal_panel')
    op.drop_table('appraisal_scheme')
    op.drop_index('ix_score_subject', 'score_entry')
    op.execute("DELETE FROM score_entry WHERE subject_kind <> 'person' OR username IS NULL")
    with op.batch_alter_table('score_entry') as batch:
        batch.drop_column('scheme')
        batch.drop_column('dimension')
        batch.drop_column('subject')
        batch.drop_column('subject_kind')
        batch.alter_column('instance_id', existing_type=sa.String(36), nullable=False)
        batch.alter_column('username', existing_type=sa.String(200), nullable=False)
        batch.alter_column('period', existing_type=sa.String(10), type_=sa.String(7), existing_nullable=False)
