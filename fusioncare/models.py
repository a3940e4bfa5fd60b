"""Imports every domain's models so Alembic and the test suite see the whole schema."""

from fusioncare.db import Base

# Each domain adds its models module here when it gains tables.

__all__ = ["Base"]
