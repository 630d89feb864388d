"""follow-up: contact schedule, contact attempts, outreach holds; borrower jurisdiction

Revision ID: 0011_outreach
Revises: 0010_lifecycle
Create Date: 2026-12-01 20:40:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0011_outreach'
down_revision = '0010_lifecycle'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('contacts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=160), nullable=False),
    sa.Column('loan_reference', sa.String(length=32), nullable=False),
    sa.Column('conversation_id', sa.String(length=200), nullable=False),
    sa.Column('channel', sa.String(length=32), nullable=False),
    sa.Column('reason', sa.String(length=32), nullable=False),
    sa.Column('subject', sa.String(length=80), nullable=False),
    sa.Column('language', sa.String(length=5), nullable=False),
    sa.Column('time_zone', sa.String(length=64), nullable=True),
    sa.Column('jurisdiction', sa.String(length=8), nullable=False),
    sa.Column('due_at', sa.DateTime(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('claimed_by', sa.String(length=64), nullable=True),
    sa.Column('claimed_at', sa.DateTime(), nullable=True),
    sa.Column('sent_at', sa.DateTime(), nullable=True),
    sa.Column('outcome', sa.String(length=200), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contacts')),
    sa.UniqueConstraint('key', name=op.f('uq_contacts_key'))
    )
    op.create_index(op.f('ix_contacts_loan_reference'), 'contacts', ['loan_reference'])
    op.create_index(op.f('ix_contacts_due_at'), 'contacts', ['due_at'])
    op.create_index(op.f('ix_contacts_status'), 'contacts', ['status'])
    op.create_table('contact_attempts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=False),
    sa.Column('loan_reference', sa.String(length=32), nullable=False),
    sa.Column('conversation_id', sa.String(length=200), nullable=False),
    sa.Column('channel', sa.String(length=32), nullable=False),
    sa.Column('attempted_at', sa.DateTime(), nullable=False),
    sa.Column('local_time', sa.String(length=40), nullable=True),
    sa.Column('outcome', sa.String(length=16), nullable=False),
    sa.Column('rule', sa.String(length=80), nullable=True),
    sa.Column('detail', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_contact_attempts_contact_id_contacts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contact_attempts'))
    )
    op.create_index(op.f('ix_contact_attempts_contact_id'), 'contact_attempts', ['contact_id'])
    op.create_index(op.f('ix_contact_attempts_loan_reference'), 'contact_attempts', ['loan_reference'])
    op.create_index(op.f('ix_contact_attempts_attempted_at'), 'contact_attempts', ['attempted_at'])
    op.create_table('outreach_holds',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('loan_reference', sa.String(length=32), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('starts_at', sa.DateTime(), nullable=False),
    sa.Column('ends_at', sa.DateTime(), nullable=True),
    sa.Column('lifted_at', sa.DateTime(), nullable=True),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('note', sa.String(length=500), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outreach_holds'))
    )
    op.create_index(op.f('ix_outreach_holds_loan_reference'), 'outreach_holds', ['loan_reference'])
    with op.batch_alter_table('borrowers') as batch:
        batch.add_column(sa.Column('jurisdiction', sa.String(length=8), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('borrowers') as batch:
        batch.drop_column('jurisdiction')
    op.drop_table('outreach_holds')
    op.drop_table('contact_attempts')
    op.drop_table('contacts')
