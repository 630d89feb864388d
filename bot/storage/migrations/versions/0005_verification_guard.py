"""verification guard: server-side verified sessions; attempt outcome and reason for audit

Revision ID: 0005_verification_guard
Revises: 0004
Create Date: 2026-12-01 15:30:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0005_verification_guard'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('verified_sessions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('conversation_id', sa.String(length=200), nullable=False),
    sa.Column('loan_reference', sa.String(length=32), nullable=False),
    sa.Column('channel', sa.String(length=32), nullable=True),
    sa.Column('verified_at', sa.DateTime(), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(), nullable=False),
    sa.Column('ended_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_verified_sessions'))
    )
    with op.batch_alter_table('verified_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_verified_sessions_conversation_id'), ['conversation_id'], unique=False)

    with op.batch_alter_table('verification_attempts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('outcome', sa.String(length=16), nullable=False, server_default='mismatch'))
        batch_op.add_column(sa.Column('reason', sa.String(length=32), nullable=True))
        batch_op.create_index(batch_op.f('ix_verification_attempts_conversation_id'), ['conversation_id'],
                              unique=False)
    # Rows written before this revision knew only success or failure.
    op.execute("UPDATE verification_attempts SET outcome = 'verified' WHERE succeeded")


def downgrade() -> None:
    with op.batch_alter_table('verification_attempts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_verification_attempts_conversation_id'))
        batch_op.drop_column('reason')
        batch_op.drop_column('outcome')
    with op.batch_alter_table('verified_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_verified_sessions_conversation_id'))
    op.drop_table('verified_sessions')
