"""Alembic environment: runs migrations against the URL the caller configured."""
from alembic import context
from sqlalchemy import create_engine

from bot.storage.schema import metadata

from bot.storage.base import ScaledDecimal

url = context.config.get_main_option("sqlalchemy.url")


def render_item(type_, obj, autogen_context):
    """Scaled decimals are plain BIGINT columns in the schema."""
    if type_ == "type" and isinstance(obj, ScaledDecimal):
        return "sa.BigInteger()"
    return False


def run() -> None:
    if context.is_offline_mode():
        context.configure(url=url, target_metadata=metadata, literal_binds=True, render_as_batch=True,
                          render_item=render_item)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = create_engine(url, future=True)
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=metadata, render_as_batch=True,
                          render_item=render_item)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run()
