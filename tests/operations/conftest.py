"""Fixtures for operations tests: the accounts and scheduling builders."""

from __future__ import annotations

import pytest

from fusioncare.directory.npi import with_check_digit
from tests.accounts.conftest import bearer, cheap_password_hashing, make_person  # noqa: F401
from tests.scheduling.builders import bookable_provider

NPI = with_check_digit("180000001")


@pytest.fixture
def provider(db, tmp_path) -> str:
    """NPI of a verified New York provider open 09:00-17:00 every day (new_patient 45, follow_up 20, telehealth 30)."""
    bookable_provider(db, tmp_path, NPI)
    return NPI
