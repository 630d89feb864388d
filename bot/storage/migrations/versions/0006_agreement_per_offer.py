"""one agreement per offer: a repeated or retried acceptance can never sign twice

Revision ID: 0006_agreement_per_offer
Revises: 0005_verification_guard
Create Date: 2026-12-01 15:00:00
"""
from alembic import op


revision = '0006_agreement_per_offer'
down_revision = '0005_verification_guard'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # NULLs never collide, so agreements without an offer record (none are written any more) stay valid.
    with op.batch_alter_table('agreements') as batch:
        batch.create_unique_constraint('uq_agreements_offer_record_id', ['offer_record_id'])


def downgrade() -> None:
    with op.batch_alter_table('agreements') as batch:
        batch.drop_constraint('uq_agreements_offer_record_id', type_='unique')
