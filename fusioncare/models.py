"""Imports every domain's models so Alembic and the test suite see the whole schema."""

# Each domain adds its models module here when it gains tables.
import fusioncare.accounts.models  # noqa: F401
import fusioncare.assessment_drafts.models  # noqa: F401
import fusioncare.directory.models  # noqa: F401
import fusioncare.recovery.models  # noqa: F401
import fusioncare.scheduling.models  # noqa: F401
import fusioncare.triage.models  # noqa: F401
from fusioncare.db import Base

__all__ = ["Base"]
