"""agent desk (escalation working state, canned replies, API keys, agent language); chat deep links

Revision ID: 0012_desk_and_links
Revises: 0011_outreach
Create Date: 2026-12-01 23:05:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0012_desk_and_links'
down_revision = '0011_outreach'
branch_labels = None
depends_on = None

ESCALATION_COLUMNS = (
    ('last_borrower_text', sa.Text()), ('last_borrower_at', sa.DateTime()),
    ('first_agent_reply_at', sa.DateTime()), ('wait_notice_at', sa.DateTime()),
    ('assistant_resumed_at', sa.DateTime()), ('callback_at', sa.DateTime()),
    ('reopened_at', sa.DateTime()), ('satisfaction', sa.Integer()), ('satisfaction_at', sa.DateTime()),
)


def upgrade() -> None:
    with op.batch_alter_table('escalations') as batch:
        for name, kind in ESCALATION_COLUMNS:
            batch.add_column(sa.Column(name, kind, nullable=True))
    op.add_column('agent_accounts', sa.Column('language', sa.String(length=5), nullable=False, server_default='en'))
    op.create_table('canned_replies',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('language', sa.String(length=5), nullable=False),
    sa.Column('shortcut', sa.String(length=32), nullable=False),
    sa.Column('title', sa.String(length=100), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('archived_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_canned_replies_language', 'canned_replies', ['language'], unique=False)
    op.create_index('uq_canned_replies_shortcut', 'canned_replies', ['language', 'shortcut'], unique=True,
                    sqlite_where=sa.text('archived_at IS NULL'), postgresql_where=sa.text('archived_at IS NULL'))
    op.create_table('console_api_keys',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('prefix', sa.String(length=16), nullable=False),
    sa.Column('key_hash', sa.String(length=200), nullable=False),
    sa.Column('scopes', sa.String(length=200), nullable=False),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('revoked_at', sa.DateTime(), nullable=True),
    sa.Column('last_used_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('prefix')
    )
    op.create_table('chat_links',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('loan_reference', sa.String(length=32), nullable=False),
    sa.Column('channel', sa.String(length=32), nullable=False),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.Column('used_at', sa.DateTime(), nullable=True),
    sa.Column('conversation_id', sa.String(length=200), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('token_hash')
    )
    op.create_index('ix_chat_links_loan_reference', 'chat_links', ['loan_reference'], unique=False)
    op.create_index('ix_chat_links_conversation_id', 'chat_links', ['conversation_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_chat_links_conversation_id', table_name='chat_links')
    op.drop_index('ix_chat_links_loan_reference', table_name='chat_links')
    op.drop_table('chat_links')
    op.drop_table('console_api_keys')
    op.drop_index('uq_canned_replies_shortcut', table_name='canned_replies')
    op.drop_index('ix_canned_replies_language', table_name='canned_replies')
    op.drop_table('canned_replies')
    with op.batch_alter_table('agent_accounts') as batch:
        batch.drop_column('language')
    with op.batch_alter_table('escalations') as batch:
        for name, _ in reversed(ESCALATION_COLUMNS):
            batch.drop_column(name)
