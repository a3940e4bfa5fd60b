from tests.accounts.conftest import cheap_password_hashing, make_person, saved_assessment  # noqa: F401
