"""early-warning risk scores

Revision ID: 0013_risk_scores
Revises: 0012_desk_and_links
Create Date: 2026-12-01 23:10:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0013_risk_scores'
down_revision = '0012_desk_and_links'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('risk_scores',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('loan_reference', sa.String(length=32), nullable=False),
    sa.Column('scored_at', sa.DateTime(), nullable=False),
    sa.Column('model_version', sa.String(length=64), nullable=False),
    sa.Column('probability', sa.Float(), nullable=False),
    sa.Column('band', sa.String(length=16), nullable=False),
    sa.Column('reasons', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_risk_scores_loan_scored', 'risk_scores', ['loan_reference', 'scored_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_risk_scores_loan_scored', table_name='risk_scores')
    op.drop_table('risk_scores')
