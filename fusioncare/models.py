"""Imports every domain's models so Alembic and the test suite see the whole schema."""

from fusioncare.db import Base

# Each domain adds its models module here when it gains tables.
import fusioncare.accounts.models  # noqa: E402,F401
import fusioncare.triage.models  # noqa: E402,F401
import fusioncare.directory.models  # noqa: E402,F401
import fusioncare.scheduling.models  # noqa: E402,F401
import fusioncare.recovery.models  # noqa: E402,F401

__all__ = ["Base"]
