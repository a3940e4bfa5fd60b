"""`fusioncare backup` copies a live SQLite database while bookings are written, `fusioncare restore` puts a copy
into an empty data directory (never over a database), and a PostgreSQL database gets the pg_dump command."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from tests.scheduling.builders import future_day

PATIENTS = 4
DAYS_EACH = 3


def fusioncare(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("FUSIONCARE_")}
    full_env.update({"FUSIONCARE_ENV": "test", **env})
    done = subprocess.run([sys.executable, "-m", "fusioncare.cli", *args], env=full_env, capture_output=True,
                          text=True, timeout=120)
    done.stderr = " ".join(done.stderr.split())  # one line, however the terminal width wrapped it
    return done


def _sqlite_file(engine) -> Path:
    return Path(engine.url.database)


@pytest.mark.slow
def test_a_backup_taken_while_bookings_are_written_restores_every_booking_acknowledged_before_it(
        clean_engine, live_server, provider, make_person, bearer, tmp_path):
    if clean_engine.dialect.name != "sqlite":
        pytest.skip("SQLite's online backup; PostgreSQL is backed up with pg_dump (next test)")
    tokens = [bearer(make_person(f"booker{i}")) for i in range(PATIENTS)]
    acknowledged: list[tuple[float, int]] = []  # (when the 201 arrived, appointment id)
    lock = threading.Lock()
    stop = threading.Event()
    backup_file = tmp_path / "backups" / "fusioncare-backup.sqlite3"

    def book(index: int) -> int:
        """Book this patient's own days slot after slot until told to stop."""
        done = 0
        with httpx.Client(base_url=live_server.url, timeout=30) as http:
            for day_offset in range(DAYS_EACH):
                day = future_day(10 + index * DAYS_EACH + day_offset)
                listed = http.get(f"/api/v1/providers/{provider}/slots", params={
                    "from": datetime.combine(day, datetime.min.time(), tzinfo=UTC).isoformat(),
                    "to": datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=UTC).isoformat(),
                    "type": "follow_up"})
                assert listed.status_code == 200, listed.text
                for slot in listed.json()["slots"]:
                    if stop.is_set():
                        return done
                    response = http.post("/api/v1/appointments", headers=tokens[index],
                                         json={"npi": provider, "start": slot["start"], "type": "follow_up"})
                    assert response.status_code == 201, response.text
                    with lock:
                        acknowledged.append((time.monotonic(), response.json()["id"]))
                    done += 1
        return done

    database = _sqlite_file(clean_engine)
    with ThreadPoolExecutor(PATIENTS) as pool:
        futures = [pool.submit(book, i) for i in range(PATIENTS)]
        while len(acknowledged) < 20:
            time.sleep(0.01)
        began = time.monotonic()
        result = fusioncare("backup", str(backup_file), env={"FUSIONCARE_DATABASE_URL": f"sqlite:///{database}"})
        ended = time.monotonic()
        time.sleep(0.5)  # bookings go on after the backup too
        stop.set()
        booked = sum(f.result() for f in futures)
    assert result.returncode == 0, result.stderr
    assert "Backed up" in result.stderr
    before = {appointment for at, appointment in acknowledged if at < began}
    after = {appointment for at, appointment in acknowledged if at > ended}
    assert len(before) >= 20 and after, "bookings were written before, during and after the backup"

    restored_dir = tmp_path / "restored"
    restored = fusioncare("restore", str(backup_file), env={"FUSIONCARE_DATA_DIR": str(restored_dir)})
    assert restored.returncode == 0, restored.stderr
    copy = sqlite3.connect(restored_dir / "fusioncare.sqlite3")
    try:
        assert copy.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        ids = {row[0] for row in copy.execute("SELECT id FROM scheduling_appointments")}
        holds = dict(copy.execute("SELECT appointment_id, count(*) FROM scheduling_slot_holds GROUP BY 1"))
    finally:
        copy.close()
    assert before <= ids, f"{len(before - ids)} acknowledged bookings missing from the backup"
    assert ids <= {appointment for _, appointment in acknowledged}
    assert all(holds.get(i) == 4 for i in ids), "every restored booking holds its four 5-minute cells"
    assert len(ids) < booked, "the copy is the database as of the backup, not of later writes"

    again = fusioncare("restore", str(backup_file), env={"FUSIONCARE_DATA_DIR": str(restored_dir)})
    assert again.returncode == 2 and "never overwrites a database" in again.stderr
    over_live = fusioncare("restore", str(backup_file), env={"FUSIONCARE_DATABASE_URL": f"sqlite:///{database}"})
    assert over_live.returncode == 2 and "already exists" in over_live.stderr
    twice = fusioncare("backup", str(backup_file), env={"FUSIONCARE_DATABASE_URL": f"sqlite:///{database}"})
    assert twice.returncode == 2 and "already exists" in twice.stderr


def test_restore_refuses_a_file_that_is_not_a_fusioncare_backup(tmp_path):
    junk = tmp_path / "junk.sqlite3"
    junk.write_bytes(b"not a database at all")
    result = fusioncare("restore", str(junk), env={"FUSIONCARE_DATA_DIR": str(tmp_path / "data")})
    assert result.returncode == 2 and "is not a SQLite database" in result.stderr
    other = tmp_path / "other.sqlite3"
    sqlite3.connect(other).execute("CREATE TABLE t (x)").connection.commit()
    result = fusioncare("restore", str(other), env={"FUSIONCARE_DATA_DIR": str(tmp_path / "data")})
    assert result.returncode == 2 and "not a FusionCare database" in result.stderr
    assert not (tmp_path / "data" / "fusioncare.sqlite3").exists()


def test_postgresql_backup_and_restore_print_the_exact_commands_without_the_password(tmp_path):
    url = "postgresql://fusion:s3cret@db.internal:5432/fusioncare"
    result = fusioncare("backup", "/backups/fc.dump", env={"FUSIONCARE_DATABASE_URL": url})
    assert result.returncode == 1
    assert result.stdout.strip() == ("pg_dump --format=custom --no-owner --file /backups/fc.dump "
                                     "postgresql://fusion@db.internal:5432/fusioncare")
    assert "s3cret" not in result.stdout + result.stderr and "PGPASSWORD" in result.stderr
    result = fusioncare("restore", "/backups/fc.dump", env={"FUSIONCARE_DATABASE_URL": url})
    assert result.returncode == 1
    assert result.stdout.strip() == ("pg_restore --no-owner --exit-on-error --single-transaction --dbname "
                                     "postgresql://fusion@db.internal:5432/fusioncare /backups/fc.dump")
