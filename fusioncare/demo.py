"""Demo content for `fusioncare demo`: each domain contributes a loader; all of it is marked as demo data."""

from __future__ import annotations

from rich.console import Console
from sqlalchemy.orm import Session

# (name, loader) pairs; each loader is idempotent and takes (db=..., console=...).
LOADERS: list = []


def load(*, db: Session, console: Console) -> None:
    if not LOADERS:
        console.print("The knowledge pack ships with the code; no other demo content to load yet.")
    for name, loader in LOADERS:
        console.print(f"Loading demo {name}...")
        loader(db=db, console=console)


# ---- accounts: a demo patient and a demo admin (development only) ----
DEMO_PATIENT_EMAIL = "patient@demo.fusioncare.test"
DEMO_PATIENT_PASSWORD = "demo-patient-sciatica-2026"
DEMO_ADMIN_EMAIL = "admin@demo.fusioncare.test"
DEMO_ADMIN_PASSWORD = "demo-admin-fusion-2026"


def _load_demo_accounts(*, db: Session, console: Console) -> None:
    """Idempotent; refuses to create known-password accounts outside development."""
    from fusioncare.accounts import service as accounts
    from fusioncare.accounts.models import Role
    from fusioncare.settings import get_settings

    if get_settings().env != "development":
        console.print("Demo accounts are only created when FUSIONCARE_ENV=development; skipped.")
        return
    for email, password, role in [(DEMO_PATIENT_EMAIL, DEMO_PATIENT_PASSWORD, Role.patient),
                                  (DEMO_ADMIN_EMAIL, DEMO_ADMIN_PASSWORD, Role.admin)]:
        accounts.ensure_account(db, email=email, password=password, role=role)
        console.print(f"  demo {role}: {email} / {password}", highlight=False)


LOADERS.append(("accounts", _load_demo_accounts))
def _load_directory(*, db: Session, console: Console) -> None:
    from fusioncare.directory import demo as directory_demo

    directory_demo.load(db=db, console=console)


LOADERS.append(("directory", _load_directory))


def _load_scheduling(*, db: Session, console: Console) -> None:
    from fusioncare.scheduling import demo as scheduling_demo
    from fusioncare.settings import get_settings

    if get_settings().env != "development":
        console.print("Demo provider accounts are only created when FUSIONCARE_ENV=development; skipped.")
        return
    scheduling_demo.load(db=db, console=console)


LOADERS.append(("scheduling", _load_scheduling))


def _load_recovery(*, db: Session, console: Console) -> None:
    from fusioncare.recovery import demo as recovery_demo
    from fusioncare.settings import get_settings

    if get_settings().env != "development":
        console.print("The demo recovery diary is only created when FUSIONCARE_ENV=development; skipped.")
        return
    recovery_demo.load(db=db, console=console, email=DEMO_PATIENT_EMAIL)


LOADERS.append(("recovery", _load_recovery))
