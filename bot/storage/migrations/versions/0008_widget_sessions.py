"""widget sessions: server-issued conversation ids and the hash of their current resume token

Revision ID: 0008_widget_sessions
Revises: 0004
Create Date: 2026-12-01 16:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0008_widget_sessions'
# Issue 9's migrations each start from 0004; the lead chains them into one line.
down_revision = '0006_agreement_per_offer'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('widget_sessions',
    sa.Column('session_id', sa.String(length=64), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('rotated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('session_id', name=op.f('pk_widget_sessions')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_widget_sessions_token_hash'))
    )


def downgrade() -> None:
    op.drop_table('widget_sessions')
