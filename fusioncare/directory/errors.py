"""Directory domain errors."""

from __future__ import annotations

from fusioncare.errors import Conflict, DomainError, InvalidInput, NotFound


class ProviderNotFound(NotFound):
    code = "provider_not_found"


class InvalidSearch(InvalidInput):
    """A search parameter that passed the schema but names nothing we know (unknown ZIP, unknown plan...)."""

    code = "invalid_search"


class UnreadableImportFile(DomainError):
    """The file as a whole can't be imported (not CSV/zip, no NPPES header); row problems are reported instead."""

    code = "unreadable_import_file"


class ImportInProgress(Conflict):
    """Another import of the same kind holds the import's lock; nothing was imported (run it again later)."""

    code = "import_in_progress"
