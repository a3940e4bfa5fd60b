"""Fixtures for directory tests: hand-made NPPES files and the importer bound to the test database."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

import pytest

from fusioncare.directory.importer import ImportReport, import_nppes
from tests.directory.nppes_files import V2_HEADER, write_nppes


@pytest.fixture
def nppes_file(tmp_path: Path) -> Callable[..., Path]:
    counter = iter(range(1_000_000))

    def build(rows: Iterable[dict[str, str] | str], *, name: str | None = None,
              header: Iterable[str] = V2_HEADER) -> Path:
        return write_nppes(tmp_path / (name or f"npidata_pfile_{next(counter)}.csv"), rows, header)

    return build


@pytest.fixture
def run_import(db) -> Callable[..., ImportReport]:
    def run(path: Path, **options) -> ImportReport:
        return import_nppes(db=db, path=path, **options)

    return run
