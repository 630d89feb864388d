"""account lifecycle: payment allocations, plan standings, days-past-due history, account events;
promise paid/settled_at; payment source/received_at

Revision ID: 0010_lifecycle
Revises: 0009_lender_keys
Create Date: 2026-12-01 20:05:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0010_lifecycle'
down_revision = '0009_lender_keys'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('payment_allocations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('payment_id', sa.Integer(), nullable=False),
    sa.Column('loan_id', sa.Integer(), nullable=False),
    sa.Column('instalment_id', sa.Integer(), nullable=True),
    sa.Column('charge_id', sa.Integer(), nullable=True),
    sa.Column('component', sa.String(length=16), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('rule', sa.String(length=80), nullable=False),
    sa.ForeignKeyConstraint(['payment_id'], ['payments.id'], name=op.f('fk_payment_allocations_payment_id_payments'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['loan_id'], ['loans.id'], name=op.f('fk_payment_allocations_loan_id_loans')),
    sa.ForeignKeyConstraint(['instalment_id'], ['scheduled_instalments.id'], name=op.f('fk_payment_allocations_instalment_id_scheduled_instalments')),
    sa.ForeignKeyConstraint(['charge_id'], ['charges.id'], name=op.f('fk_payment_allocations_charge_id_charges')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payment_allocations'))
    )
    op.create_index(op.f('ix_payment_allocations_payment_id'), 'payment_allocations', ['payment_id'])
    op.create_index(op.f('ix_payment_allocations_loan_id'), 'payment_allocations', ['loan_id'])
    op.create_table('plan_standings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('agreement_id', sa.Integer(), nullable=False),
    sa.Column('loan_reference', sa.String(length=32), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('paid', sa.BigInteger(), nullable=False),
    sa.Column('due', sa.BigInteger(), nullable=False),
    sa.Column('changed_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['agreement_id'], ['agreements.id'], name=op.f('fk_plan_standings_agreement_id_agreements')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_plan_standings')),
    sa.UniqueConstraint('agreement_id', name=op.f('uq_plan_standings_agreement_id'))
    )
    op.create_index(op.f('ix_plan_standings_loan_reference'), 'plan_standings', ['loan_reference'])
    op.create_table('loan_day_status',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('loan_id', sa.Integer(), nullable=False),
    sa.Column('as_of', sa.Date(), nullable=False),
    sa.Column('arrears', sa.BigInteger(), nullable=False),
    sa.Column('days_past_due', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['loan_id'], ['loans.id'], name=op.f('fk_loan_day_status_loan_id_loans')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_loan_day_status')),
    sa.UniqueConstraint('loan_id', 'as_of', name=op.f('uq_loan_day_status_loan_id'))
    )
    op.create_table('account_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('loan_reference', sa.String(length=32), nullable=False),
    sa.Column('subject', sa.String(length=16), nullable=False),
    sa.Column('subject_id', sa.String(length=64), nullable=False),
    sa.Column('from_state', sa.String(length=16), nullable=True),
    sa.Column('to_state', sa.String(length=16), nullable=False),
    sa.Column('cause', sa.String(length=16), nullable=False),
    sa.Column('cause_ref', sa.String(length=120), nullable=False),
    sa.Column('detail', sa.Text(), nullable=True),
    sa.Column('occurred_on', sa.Date(), nullable=False),
    sa.Column('recorded_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_account_events'))
    )
    op.create_index(op.f('ix_account_events_loan_reference'), 'account_events', ['loan_reference'])
    op.create_index(op.f('ix_account_events_recorded_at'), 'account_events', ['recorded_at'])
    with op.batch_alter_table('promises_to_pay') as batch:
        batch.add_column(sa.Column('paid', sa.BigInteger(), nullable=False, server_default='0'))
        batch.add_column(sa.Column('settled_at', sa.DateTime(), nullable=True))
    with op.batch_alter_table('payments') as batch:
        batch.add_column(sa.Column('source', sa.String(length=16), nullable=True))
        batch.add_column(sa.Column('received_at', sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('payments') as batch:
        batch.drop_column('received_at')
        batch.drop_column('source')
    with op.batch_alter_table('promises_to_pay') as batch:
        batch.drop_column('settled_at')
        batch.drop_column('paid')
    op.drop_table('account_events')
    op.drop_table('loan_day_status')
    op.drop_table('plan_standings')
    op.drop_table('payment_allocations')
