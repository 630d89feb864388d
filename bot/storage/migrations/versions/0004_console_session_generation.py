"""console session generation: signing out ends the account's sessions

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29 02:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('agent_accounts',
                  sa.Column('session_generation', sa.Integer(), nullable=False, server_default='0'))


def downgrade() -> None:
    with op.batch_alter_table('agent_accounts') as batch:
        batch.drop_column('session_generation')
