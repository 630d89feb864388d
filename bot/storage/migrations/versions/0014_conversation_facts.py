"""analytics: per-conversation facts from the tracker store, language slots, and the catch-up cursor

Revision ID: 0014_conversation_facts
Revises: 0013_risk_scores
Create Date: 2026-12-02 00:05:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0014_conversation_facts'
down_revision = '0013_risk_scores'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('conversation_facts',
    sa.Column('conversation_id', sa.String(length=255), nullable=False),
    sa.Column('started_event_id', sa.BigInteger(), nullable=True),
    sa.Column('started_at', sa.Float(), nullable=True),
    sa.Column('returned', sa.Boolean(), nullable=False),
    sa.Column('first_message_event_id', sa.BigInteger(), nullable=True),
    sa.Column('first_message_at', sa.Float(), nullable=True),
    sa.Column('channel', sa.String(length=255), nullable=True),
    sa.Column('language_event_id', sa.BigInteger(), nullable=True),
    sa.Column('language', sa.String(length=255), nullable=True),
    sa.Column('language_at', sa.Float(), nullable=True),
    sa.Column('last_event_id', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('conversation_id', name=op.f('pk_conversation_facts'))
    )
    op.create_index('ix_conversation_facts_started_at', 'conversation_facts', ['started_at'], unique=False)
    op.create_table('conversation_language_slots',
    sa.Column('event_id', sa.BigInteger(), nullable=False),
    sa.Column('conversation_id', sa.String(length=255), nullable=False),
    sa.Column('set_at', sa.Float(), nullable=False),
    sa.Column('value', sa.String(length=255), nullable=True),
    sa.PrimaryKeyConstraint('event_id', name=op.f('pk_conversation_language_slots'))
    )
    op.create_index('ix_conversation_language_slots_conversation', 'conversation_language_slots',
                    ['conversation_id', 'event_id'], unique=False)
    cursor = op.create_table('analytics_cursor',
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('last_event_id', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_analytics_cursor'))
    )
    op.bulk_insert(cursor, [{'name': 'tracker_events', 'last_event_id': 0}])


def downgrade() -> None:
    op.drop_table('analytics_cursor')
    op.drop_index('ix_conversation_language_slots_conversation', table_name='conversation_language_slots')
    op.drop_table('conversation_language_slots')
    op.drop_index('ix_conversation_facts_started_at', table_name='conversation_facts')
    op.drop_table('conversation_facts')
