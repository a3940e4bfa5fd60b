"""Accounts' shapes at the edges of the JSON API."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from fusioncare.inputs import Text

_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s.]+(\.[^@\s.]+)+$")


def normalise_email(value: str) -> str:
    value = value.strip().lower()
    if not _EMAIL.match(value):
        raise ValueError("must be an e-mail address like name@example.org")
    return value


EmailAddress = Annotated[Text, Field(min_length=3, max_length=254), AfterValidator(normalise_email)]
Password = Annotated[Text, Field(min_length=1, max_length=256)]


class AccountCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: EmailAddress
    password: Password = Field(description="At least 10 characters and not a common password.")


class AccountCreated(BaseModel):
    """Deliberately the same whether or not the e-mail already had an account (the owner is told by e-mail)."""

    email: str
    message: str


class Credentials(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: Annotated[Text, Field(min_length=1, max_length=254)]
    password: Password


class TokenRead(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int = Field(description="Seconds until the token expires.")


class AccountRead(BaseModel):
    id: int
    email: str
    role: Literal["patient", "provider", "admin"]
    provider_npi: str | None
    provider_verified: bool
    created_at: datetime


class PersonalDataExport(BaseModel):
    """Everything FusionCare holds about the person: the account and each domain's records by name."""

    exported_at: datetime
    account: AccountRead
    data: dict[str, Any]
    account_activity: list[dict[str, Any]] = Field(
        description="Security log entries about things this account did (newest first, at most 10,000).")


class AccountDeleted(BaseModel):
    deleted: Literal[True] = True
    erased_records: dict[str, int]


class AccountDelete(BaseModel):
    """Deleting the account is confirmed with the current password (checked under the sign-in limits)."""

    model_config = ConfigDict(extra="forbid")

    password: Password = Field(description="Your current password.")


class PasswordChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    current_password: Password
    new_password: Password


class PasswordResetRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: EmailAddress


class PasswordResetConfirm(BaseModel):
    model_config = ConfigDict(extra="forbid")

    token: Annotated[Text, Field(min_length=1, max_length=200)]
    new_password: Password


class ProviderClaim(BaseModel):
    model_config = ConfigDict(extra="forbid")

    npi: Annotated[str, Field(min_length=10, max_length=10, pattern=r"^[0-9]{10}$",
                              description="The 10-digit National Provider Identifier.")]


class Message(BaseModel):
    message: str


class AuditEventRead(BaseModel):
    id: int
    occurred_at: datetime
    actor_user_id: int | None
    actor_role: str | None
    action: str
    record_type: str
    record_id: str | None
    client_address: str | None
    outcome: str
    detail: str
