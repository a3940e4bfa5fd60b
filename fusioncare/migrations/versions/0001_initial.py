"""Initial revision: the root every domain's migrations descend from.

Revision ID: 0001_initial
Revises:
Create Date: 2026-11-25
"""

revision = "0001_initial"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
