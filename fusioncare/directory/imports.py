"""The record of data imports: one row per run, and the last successful run of each source."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fusioncare.directory.models import ImportRun


def record_run(*, db: Session, source: str, source_file: str, all_taxonomies: bool, started_at: datetime,
               counts: dict[str, int], error: BaseException | None = None) -> ImportRun:
    """Append a run and commit it (a failed run is recorded after its import's own rollback)."""
    run = ImportRun(source=source, source_file=source_file[:255], all_taxonomies=all_taxonomies,
                    started_at=started_at, finished_at=datetime.now(UTC),
                    status="failed" if error is not None else "succeeded",
                    error=type(error).__name__[:200] if error is not None else None,
                    **{name: counts.get(name, 0) for name in ImportRun.COUNTS})
    db.add(run)
    db.commit()
    return run


def last_successful_runs(*, db: Session) -> list[ImportRun]:
    """The latest succeeded run per source, by source name."""
    latest = (select(ImportRun.source, func.max(ImportRun.id).label("id"))
              .where(ImportRun.status == "succeeded").group_by(ImportRun.source).subquery())
    return list(db.scalars(select(ImportRun).join(latest, ImportRun.id == latest.c.id).order_by(ImportRun.source)))
