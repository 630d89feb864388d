"""The declarative base every table of the application inherits from."""
from __future__ import annotations

from decimal import Decimal

from sqlalchemy import BigInteger, MetaData
from sqlalchemy.orm import declarative_base
from sqlalchemy.types import TypeDecorator

# Stable constraint names keep Alembic migrations identical on SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

Base = declarative_base(metadata=MetaData(naming_convention=NAMING))


class ScaledDecimal(TypeDecorator):
    """An exact decimal stored as a scaled integer: lossless on SQLite and PostgreSQL alike."""

    impl = BigInteger
    cache_ok = True

    def __init__(self, places: int) -> None:
        super().__init__()
        self.places = places
        self.quantum = Decimal(1).scaleb(-places)

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        amount = Decimal(value)
        if amount != amount.quantize(self.quantum):
            raise ValueError(f"{amount} has more than {self.places} decimal places")
        return int(amount.scaleb(self.places))

    def process_result_value(self, value, dialect):
        return None if value is None else Decimal(value).scaleb(-self.places).quantize(self.quantum)


def Money() -> ScaledDecimal:  # noqa: N802 - reads like a column type
    """A money column: cents as an integer in the database, Decimal in Python."""
    return ScaledDecimal(2)


def Rate() -> ScaledDecimal:  # noqa: N802
    """An interest-rate column (annual fraction, six places: 0.156000)."""
    return ScaledDecimal(6)
