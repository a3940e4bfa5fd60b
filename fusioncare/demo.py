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


def _load_directory(*, db: Session, console: Console) -> None:
    from fusioncare.directory import demo as directory_demo

    directory_demo.load(db=db, console=console)


LOADERS.append(("directory", _load_directory))
