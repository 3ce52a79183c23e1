"""the team's text snippets (abbreviations expanded while editing a transcript)

Revision ID: 0010_s2review_snippets
Revises: 0009_i26merge

``project.snippets``: abbreviation -> text (for example ``",,i": "{informant}"``), the
project's, so they travel with it to the team.
"""

from alembic import op
import sqlalchemy as sa


revision = '0010_s2review_snippets'
down_revision = '0009_i26merge'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('project', schema=None) as batch_op:
        batch_op.add_column(sa.Column('snippets', sa.JSON(), nullable=False, server_default='{}'))


def downgrade() -> None:
    with op.batch_alter_table('project', schema=None) as batch_op:
        batch_op.drop_column('snippets')
