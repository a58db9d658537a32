"""the instance's title on the task index (inbox titles and search)

Revision ID: c3f1a5d7e920
Revises: b7c3e2a91d04
Create Date: 2026-11-30 15:50:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = 'c3f1a5d7e920'
down_revision = 'b7c3e2a91d04'
branch_labels = None
depends_on = None

instance = sa.table('instance', sa.column('id', sa.String()), sa.column('data', sa.JSON()))
human_task = sa.table('human_task', sa.column('instance_id', sa.String()), sa.column('title', sa.Text()))


def upgrade() -> None:
    # Plain ADD COLUMN (no batch table copy): on SQLite a copy of human_task would cascade-delete
    # the rows that reference it while foreign keys are on.
    op.add_column('human_task', sa.Column('title', sa.Text(), nullable=True))
    # Existing tasks take their instance's title, when it is a text (the runner's rule).
    conn = op.get_bind()
    with_tasks = sa.select(human_task.c.instance_id).distinct()
    titled = []
    for instance_id, data in conn.execute(sa.select(instance.c.id, instance.c.data).where(instance.c.id.in_(with_tasks))):
        title = data.get('title') if isinstance(data, dict) else None
        if isinstance(title, str):
            titled.append({'iid': instance_id, 'title': title})
    if titled:
        conn.execute(human_task.update().where(human_task.c.instance_id == sa.bindparam('iid')).values(title=sa.bindparam('title')), titled)


def downgrade() -> None:
    op.drop_column('human_task', 'title')  # no batch copy here either (rows reference human_task)
