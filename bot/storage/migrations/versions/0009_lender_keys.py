"""lender keys for importing a lender's books: borrower external id and time zone, payment and charge ids

Revision ID: 0009_lender_keys
Revises: 0008_widget_sessions
Create Date: 2026-12-01 18:45:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0009_lender_keys'
down_revision = '0008_widget_sessions'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Nullable: rows created before the import (the demo data) have no lender key; NULLs never collide.
    with op.batch_alter_table('borrowers') as batch:
        batch.add_column(sa.Column('external_id', sa.String(length=64), nullable=True))
        batch.add_column(sa.Column('time_zone', sa.String(length=64), nullable=True))
        batch.create_unique_constraint('uq_borrowers_external_id', ['external_id'])
    for table in ('payments', 'charges'):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column('external_id', sa.String(length=64), nullable=True))
            batch.create_unique_constraint(f'uq_{table}_external_id', ['external_id'])


def downgrade() -> None:
    for table in ('charges', 'payments'):
        with op.batch_alter_table(table) as batch:
            batch.drop_constraint(f'uq_{table}_external_id', type_='unique')
            batch.drop_column('external_id')
    with op.batch_alter_table('borrowers') as batch:
        batch.drop_constraint('uq_borrowers_external_id', type_='unique')
        batch.drop_column('time_zone')
        batch.drop_column('external_id')
