"""Alembic environment: runs on the connection the Store hands in, or on a URL."""

from alembic import context
from sqlalchemy import create_engine

import engine.attachments.tables
import engine.campaigns.tables
import engine.frontline.tables
import engine.incidents.tables
import engine.integration.tables
import engine.villages.tables  # noqa: F401 - registers its tables
from engine.tables import Base

config = context.config
target_metadata = Base.metadata


def run() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    url = config.attributes.get("connection_url") or config.get_main_option("sqlalchemy.url")
    engine = create_engine(url)
    with engine.begin() as conn:
        context.configure(connection=conn, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()


run()
