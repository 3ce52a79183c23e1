"""Alembic environment: fieldkit runs migrations itself on a connection it passes in."""

from alembic import context
from sqlmodel import SQLModel

import fieldkit.store.models  # noqa: F401  (registers the tables)

config = context.config
connection = config.attributes.get("connection")
if connection is None:  # pragma: no cover - only `alembic` on the command line
    from sqlalchemy import create_engine

    connection = create_engine(config.get_main_option("sqlalchemy.url")).connect()

context.configure(
    connection=connection,
    target_metadata=SQLModel.metadata,
    render_as_batch=True,  # SQLite needs table copies for ALTER; harmless elsewhere
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
