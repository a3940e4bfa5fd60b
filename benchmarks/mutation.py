"""Mutation testing of the safety-critical modules with mutmut: how many deliberate small breakages of each module
its own tests catch.

Each module runs in a scratch copy of the repository (so the work tree never holds mutmut's ``mutants/`` folder),
against the test files that pin it (MODULES below), on SQLite, one mutant at a time by default (the machine has
2 cores). The report, per module (mutants, killed, survived, timeouts, the score and the surviving mutants' names),
goes to benchmarks/out/mutation.json; a module already in the report is kept unless named again.

    python -m benchmarks.mutation                          # every module
    python -m benchmarks.mutation npi csrf --max-children 2  # some of them
    python -m benchmarks.mutation --show npi               # the diffs of a module's surviving mutants
"""

from __future__ import annotations

import argparse
import fnmatch
import importlib.metadata
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "out" / "mutation.json"
TARGET = 0.90  # issue 18: at least 90% of the mutants of each listed module killed


@dataclass(frozen=True)
class Module:
    source: str  # a file under fusioncare/
    tests: tuple[str, ...]  # the test files that pin it
    # What the fork server loads before forking each mutant: "collect" (pytest --collect-only: fast) unless
    # collecting the tests already runs the module (the knowledge pack is loaded while tests are collected).
    warmup: str = "collect"
    # Mutant-name globs (mutmut's, e.g. "fusioncare.scheduling.service.x_book*") when only some functions of the
    # file are mutated; empty: all of them. The report counts only the mutants they select.
    mutants: tuple[str, ...] = ()


MODULES: dict[str, Module] = {
    "npi": Module("fusioncare/directory/npi.py", ("tests/directory/test_npi.py",)),
    # The engine's property tests (tests/triage/test_properties.py, 300 examples each) are left out: with them a
    # surviving mutant costs about 40 s, too slow for 2 cores; the vignettes and contract cases run.
    "triage_engine": Module("fusioncare/triage/service.py", ("tests/triage/test_service.py",
                                                            "tests/triage/test_conditions.py")),
    # With the pack's own checks' tests; the fork server collects them first (collecting loads the pack, but the
    # tests load their broken copies with load_pack, which runs the mutant).
    "rule_loader": Module("fusioncare/knowledge/loader.py", ("tests/knowledge/test_loader.py",
                                                           "tests/knowledge/test_procedure_codes.py")),
    # install_template_globals runs when the page modules are imported: with a fork server that imported them
    # (collect), its mutants would never run, so each mutant imports the app afresh.
    "csrf": Module("fusioncare/accounts/csrf.py", ("tests/accounts/test_csrf_cookie.py",
                                                   "tests/accounts/test_csrf_every_form.py"), warmup="none"),
    "rate_limiter": Module("fusioncare/accounts/ratelimit.py", ("tests/accounts/test_rate_limits.py",)),
    "permissions": Module("fusioncare/accounts/permissions.py", ("tests/accounts/test_audit_and_permissions.py",
                                                                 "tests/accounts/test_idor_matrix.py")),
    "passwords": Module("fusioncare/accounts/passwords.py", ("tests/accounts/test_passwords.py",
                                                             "tests/accounts/test_password_policy.py")),
    "tokens": Module("fusioncare/accounts/tokens.py", ("tests/accounts/test_single_use_tokens.py",
                                                       "tests/accounts/test_accounts_api.py")),
    "questionnaire_scoring": Module("fusioncare/recovery/scoring.py", ("tests/recovery/test_scoring.py",
                                                                       "tests/recovery/test_scoring_edges.py")),
    # service.py is the whole of scheduling (availability, listings, the dashboard: 1,840 mutants); only the holds
    # and the booking are mutated: the hold cells, taking and releasing them, the overlap checks, book() and the
    # lost-race answer (357 mutants).
    "slot_holds_and_booking": Module("fusioncare/scheduling/service.py", ("tests/scheduling/test_booking_rules.py",
                                                                          "tests/scheduling/test_race.py",
                                                                          "tests/scheduling/test_routes.py",
                                                                          "tests/scheduling/test_conflict_answers.py"),
                                     mutants=tuple(f"fusioncare.scheduling.service.{f}__mutmut_*" for f in (
                                         "x__floor_cell", "x__cells", "x__hold", "x__release", "x__slot_taken",
                                         "x_overlapping_appointment", "x__overlaps", "x_book", "x__lost_race"))),
    # records.py also builds whole chunks with pyarrow and caches the ZIP table (995 mutants); mutated here are the
    # row checks: the one-row rules (scope, dates, build_record) and the column-wise NPI and date checks (265).
    "importer_row_checks": Module("fusioncare/directory/records.py", ("tests/directory/test_records.py",
                                                                      "tests/directory/test_importer.py"),
                                  mutants=tuple(f"fusioncare.directory.records.{f}__mutmut_*" for f in (
                                      "x_in_default_scope", "x_parse_date", "x_build_record", "x_valid_npis",
                                      "x__iso_date"))),
}

# Surviving mutants that change no behaviour, with the reason; they leave the score's denominator. Names are
# mutmut's (function and mutant number): re-check them when the module changes.
EQUIVALENT: dict[str, str] = {
    "fusioncare.accounts.csrf.x__valid_cookie__mutmut_17":
        'replace("-", "XXXX") instead of replace("-", ""): the check is isalnum(), and XXXX is as alphanumeric as '
        "nothing, so '-' is accepted either way",
    "fusioncare.accounts.csrf.x__valid_cookie__mutmut_19": 'the same for replace("_", "XXXX")',
    "fusioncare.accounts.csrf.xǁCsrfCookieMiddlewareǁ__call____mutmut_27":
        'decode("LATIN-1"): Python looks codec names up without regard to case',
    "fusioncare.accounts.csrf.xǁCsrfCookieMiddlewareǁ__call____mutmut_33":
        'a missing Cookie header read as "XXXX" instead of "": neither holds an fc_csrf cookie',
    "fusioncare.accounts.csrf.xǁCsrfCookieMiddlewareǁ__call____mutmut_39":
        'scope.setdefault("state", None): both servers the app runs under (uvicorn, Starlette\'s TestClient) put a '
        "state dict in every HTTP scope, so the default is never used",
    "fusioncare.accounts.csrf.xǁCsrfCookieMiddlewareǁ__call____mutmut_41": 'the same for scope.setdefault("state")',
    "fusioncare.accounts.csrf.xǁCsrfCookieMiddlewareǁ__call____mutmut_55":
        "secrets.token_urlsafe(None): None means secrets.DEFAULT_ENTROPY, 32 bytes, the number it replaces",
    "fusioncare.accounts.csrf.xǁCsrfCookieMiddlewareǁ__call____mutmut_56":
        "token_urlsafe(33): not the same cookie (44 characters, 264 random bits, instead of 43 and 256), but no "
        "requirement tells them apart: both are far above the 128 bits a CSRF secret needs and inside the 20 to 100 "
        "characters a kept cookie may have",
    "fusioncare.accounts.csrf.xǁCsrfCookieMiddlewareǁ__call____mutmut_65":
        '"; secure" for "; Secure": cookie attribute names are case-insensitive (RFC 6265 section 5.2), so browsers '
        "read the same Secure cookie",
    "fusioncare.accounts.csrf.xǁCsrfCookieMiddlewareǁ__call____mutmut_66": 'the same for "; SECURE"',
    "fusioncare.accounts.csrf.xǁCsrfCookieMiddlewareǁ__call____mutmut_73":
        'message.setdefault(None, []) instead of ("headers", []): every response start the app sends (Starlette\'s '
        "responses, static files included) carries its headers list, so the default is never used and the next line "
        "reads the real list",
    "fusioncare.accounts.csrf.xǁCsrfCookieMiddlewareǁ__call____mutmut_74": 'the same for setdefault("headers", None)',
    "fusioncare.accounts.csrf.xǁCsrfCookieMiddlewareǁ__call____mutmut_76": 'the same for setdefault("headers")',
    "fusioncare.accounts.csrf.xǁCsrfCookieMiddlewareǁ__call____mutmut_77": 'the same for setdefault("XXheadersXX", [])',
    "fusioncare.accounts.csrf.xǁCsrfCookieMiddlewareǁ__call____mutmut_78": 'the same for setdefault("HEADERS", [])',
    "fusioncare.accounts.csrf.xǁCsrfCookieMiddlewareǁ__call____mutmut_85":
        'b"SET-COOKIE" for b"set-cookie": HTTP header names are case-insensitive (RFC 9110 section 5.1); uvicorn '
        "and the test client deliver the same Set-Cookie header",
    "fusioncare.accounts.csrf.xǁCsrfCookieMiddlewareǁ__call____mutmut_88":
        'encode("LATIN-1"): Python looks codec names up without regard to case',
    "fusioncare.accounts.csrf.x_csrf_protect__mutmut_14":
        'headers.get("CONTENT-TYPE"): Starlette\'s request headers are looked up without regard to case',
    "fusioncare.accounts.csrf.x_csrf_protect__mutmut_15":
        'headers.get("content-type", "XXXX"): without a Content-Type neither default starts with a form type, so no '
        "form is read either way",
    "fusioncare.accounts.ratelimit.x__bucket__mutmut_3":
        "41 hex digits of the key's SHA-256 instead of 40 in the bucket name: a different name for the same bucket "
        "(it fits the 120-character column either way), and keys collide no more often",
    "fusioncare.accounts.ratelimit.x__lock__mutmut_1":
        "dialect = None, so sqlite.insert on every database: the same statement on SQLite, where the mutation run "
        "happens; not equivalent on PostgreSQL, where it does not compile (AttributeError: 'OnConflictDoNothing' "
        "object has no attribute 'constraint_target'), so every reservation fails and the rate-limit tests fail "
        "when run with FUSIONCARE_TEST_DATABASE_URL",
    "fusioncare.accounts.ratelimit.x__lock__mutmut_3": "sqlite.insert on every database: the same as _lock__mutmut_1",
    "fusioncare.accounts.ratelimit.x__lock__mutmut_4":
        "postgresql.insert on every database: SQLite's compiler renders it as the same INSERT ... ON CONFLICT DO "
        "NOTHING (checked), and PostgreSQL gets the insert it gets today",
    "fusioncare.accounts.ratelimit.x__lock__mutmut_5":
        "the two inserts swapped: SQLite renders PostgreSQL's as the same statement; PostgreSQL gets SQLite's, which "
        "does not compile there (as _lock__mutmut_1), caught only by a PostgreSQL run",
    "fusioncare.accounts.ratelimit.x__lock__mutmut_6":
        'dialect == "XXpostgresqlXX": never true, so sqlite.insert everywhere, as _lock__mutmut_1',
    "fusioncare.accounts.ratelimit.x__lock__mutmut_7": 'dialect == "POSTGRESQL": the same',
    "fusioncare.accounts.ratelimit.x__lock__mutmut_9":
        "six tries instead of five to find the bucket row after inserting it: on SQLite the INSERT takes the "
        "database's one write lock, so nothing can delete the row before the UPDATE and the first try always "
        "succeeds; the bound matters only on PostgreSQL, when a purge wins the race five times in a row",
    "fusioncare.accounts.ratelimit.x__lock__mutmut_14":
        "a new bucket inserted with the column default (utcnow()) instead of now: the UPDATE right after sets "
        "touched_at = now in the same transaction",
    "fusioncare.accounts.ratelimit.x__lock__mutmut_25":
        "the message of the RuntimeError after five tries, which SQLite never reaches (_lock__mutmut_9)",
    "fusioncare.accounts.ratelimit.x__lock__mutmut_26": "the same",
    "fusioncare.accounts.ratelimit.x__lock__mutmut_27": "the same",
    "fusioncare.accounts.ratelimit.x_reserve__mutmut_5":
        "sorted by the whole (bucket, limit) pair instead of the bucket: bucket names are unique in the set (they "
        "start with the limit's name), so the order is the same and the limits are never compared",
    "fusioncare.accounts.ratelimit.x_reserve__mutmut_7": "the same (sorted without a key)",
    "fusioncare.accounts.ratelimit.x_reserve__mutmut_39":
        "the oldest attempt's time zone always replaced by now's: both are UTC (the column is UtcDateTime, now is "
        "utcnow() or a test's UTC clock)",
    "fusioncare.accounts.ratelimit.x_reserve__mutmut_40":
        "the oldest attempt's time never given now's time zone: the database hands it back aware (UtcDateTime on "
        "SQLite, timestamptz on PostgreSQL), so the branch for a naive time is never taken",
    "fusioncare.accounts.ratelimit.x_reserve__mutmut_41":
        "tzinfo=None in that branch, which is never taken (as x_reserve__mutmut_40)",
    "fusioncare.accounts.ratelimit.x__purge__mutmut_5":
        "FOR UPDATE without SKIP LOCKED: SQLite, where the mutation run happens, has no row locks and ignores "
        "FOR UPDATE; the difference (a purge waiting for a reservation instead of skipping its rows) is PostgreSQL's",
    "fusioncare.accounts.ratelimit.x__purge__mutmut_9":
        "skip_locked=False for the old events: the same as x__purge__mutmut_5",
    "fusioncare.accounts.ratelimit.x__purge__mutmut_11": "skip_locked=None for the old buckets: the same",
    "fusioncare.accounts.ratelimit.x__purge__mutmut_15": "skip_locked=False for the old buckets: the same",
    "fusioncare.directory.records.x_in_default_scope__mutmut_4":
        "any taxonomy NOT of the specialty map lets a row in: in_default_scope only spares the row-by-row reader "
        "work; a row it lets in wrongly is skipped, and counted as skipped, by build_record's own scope check",
    "fusioncare.scheduling.service.x_book__mutmut_10":
        'the request digest\'s key "XXnpiXX" for "npi": the digest is only ever compared with digests the same code '
        "made, and renaming a key keeps every value in it, so the same requests match",
    "fusioncare.scheduling.service.x_book__mutmut_11": "the same for the digest key 'NPI'",
    "fusioncare.scheduling.service.x_book__mutmut_12": "the same for the digest key 'XXstartXX'",
    "fusioncare.scheduling.service.x_book__mutmut_13": "the same for the digest key 'START'",
    "fusioncare.scheduling.service.x_book__mutmut_15": "the same for the digest key 'XXtypeXX'",
    "fusioncare.scheduling.service.x_book__mutmut_16": "the same for the digest key 'TYPE'",
    "fusioncare.scheduling.service.x_book__mutmut_17": "the same for the digest key 'XXendXX'",
    "fusioncare.scheduling.service.x_book__mutmut_18": "the same for the digest key 'END'",
    "fusioncare.scheduling.service.x_book__mutmut_22": "the same for the digest key 'XXshare_latest_assessmentXX'",
    "fusioncare.scheduling.service.x_book__mutmut_23": "the same for the digest key 'SHARE_LATEST_ASSESSMENT'",
    "fusioncare.scheduling.service.x_book__mutmut_37":
        "no early Idempotency-Key lookup (replayed = None): a shortcut; without it a retry still ends in the same "
        "_replay, from the except branch when its slot or time is taken (by its own first booking) or from the "
        "IntegrityError branch when the key's primary key refuses the second insert, with the same answer",
    "fusioncare.scheduling.service.x_book__mutmut_39": "the same: the early lookup with patient_id=None finds nothing",
    "fusioncare.scheduling.service.x_book__mutmut_40": "the same: the early lookup with key=None finds nothing",
    "fusioncare.scheduling.service.x_book__mutmut_82":
        "the refused request's replay lookup made without an Idempotency-Key too: it looks up (patient, None), "
        "which no stored key has (the key is part of the primary key), so None, as the guard gives",
    "fusioncare.scheduling.service.x_book__mutmut_62":
        "starts_at = start.astimezone(None): the same instant in the host's zone; every use of it compares or "
        "stores instants (UtcDateTime converts to UTC, the cells are counted from the UTC epoch)",
    "fusioncare.scheduling.service.x_book__mutmut_68":
        "the read check for the patient's overlapping appointment with patient_id=None finds nothing; the patient "
        "holds (backfilled for older appointments by migration 0010) refuse the write instead, and _lost_race names "
        "the same appointment with the same answer",
    "fusioncare.scheduling.service.x_book__mutmut_107":
        "status=None: the column's default is requested, and the ORM applies it to a None it inserts",
    "fusioncare.scheduling.service.x_book__mutmut_120": "status left out: the same default",
    "fusioncare.scheduling.service.x_book__mutmut_111":
        "sequence=None: the column's default is 0, the value it replaces",
    "fusioncare.scheduling.service.x_book__mutmut_124": "sequence left out: the same default",
    "fusioncare.scheduling.service.x_overlapping_appointment__mutmut_20":
        "limit(None) instead of limit(1) before .first(): the same first row",
    "fusioncare.scheduling.service.x_overlapping_appointment__mutmut_22": "limit(2): the same first row",
    "fusioncare.directory.records.x_valid_npis__mutmut_20":
        "range(11) instead of range(10) digits peeled off the NPI: the eleventh (always 0, of a number of at most "
        "ten digits) is never read; the check uses digits[0] to digits[9]",
    "fusioncare.directory.records.x__iso_date__mutmut_3":
        "parse_date(value, None): the column name is only for the Rejected message, which _iso_date discards",
    "fusioncare.directory.records.x__iso_date__mutmut_6": 'the same for parse_date(value, "XXXX")',
    "fusioncare.directory.records.x_build_record__mutmut_52":
        "an individual's searchable name always gets ' ' + organization, which is '' without one: the trailing space "
        "is dropped by names.normalise, so name_search is the same",
    "fusioncare.accounts.tokens.x_new_secret__mutmut_1":
        "secrets.token_urlsafe(None) instead of (32): None means secrets.DEFAULT_ENTROPY, which is 32 bytes",
    "fusioncare.directory.npi.x_is_valid_npi__mutmut_7":
        "check_digit(value[:10]) instead of value[:9]: check_digit reads only the first nine digits, so the same digit",
    "fusioncare.recovery.scoring.x_is_meaningful__mutmut_7":
        ">= instead of > against min_points - 1e-9: they differ only for a change of exactly min_points - 1e-9, "
        "which the 1e-9 tolerance exists to absorb (a change of exactly min_points is tested and stays meaningful)",
    "fusioncare.recovery.scoring.x_is_meaningful__mutmut_19":
        "the same for min_percent - 1e-9 (exactly 30 % is tested and stays meaningful)",
    "fusioncare.knowledge.loader.x__read__mutmut_5":
        "read_text(encoding=None) instead of 'utf-8': the same wherever the locale's encoding is UTF-8 or the C "
        "locale (coerced to UTF-8, PEP 538 and 540), as on this machine, in CI and in deploy/'s image; it differs "
        "only on a host with a non-UTF-8 locale installed, which no test here can set up (the explicit utf-8 is "
        "kept for such hosts)",
    "fusioncare.knowledge.loader.x__read__mutmut_7":
        "'UTF-8' instead of 'utf-8': codec names are case-insensitive, the same codec",
    "fusioncare.knowledge.loader.x__read__mutmut_29":
        "exc.errors(include_url=True): adds a 'url' key to each error, and the message is built from 'loc' and "
        "'msg' only",
    "fusioncare.recovery.scoring.x_judge__mutmut_10":
        "current <= baseline instead of <: judge only gets there for a meaningful change, and is_meaningful is False "
        "when current equals baseline",
}

STATUS = {1: "killed", 3: "killed", 0: "survived", 36: "timeout", 24: "timeout", -24: "timeout", 152: "timeout",
          255: "timeout", 5: "no_tests", 33: "no_tests", 34: "skipped", 37: "killed"}


def _scratch(module: Module, max_children: int) -> Path:
    work = Path(tempfile.mkdtemp(prefix="fusioncare-mutation-"))
    for folder in ("fusioncare", "tests"):
        shutil.copytree(ROOT / folder, work / folder, ignore=shutil.ignore_patterns("__pycache__", ".screenshots"))
    if (ROOT / "node_modules").exists():
        (work / "node_modules").symlink_to((ROOT / "node_modules").resolve())
    config = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    selection = ", ".join(json.dumps(t) for t in module.tests)
    config += (f"\n[tool.mutmut]\nsource_paths = [\"fusioncare\"]\nonly_mutate = [{json.dumps(module.source)}]\n"
               f"pytest_add_cli_args = [\"-p\", \"no:cacheprovider\", \"-x\", \"-q\"]\n"
               f"pytest_add_cli_args_test_selection = [{selection}]\n"
               f"also_copy = [\"node_modules\"]\n"
               # Each mutant forks from a fork server, not from mutmut's own process (its default): forked from
               # there, a mutant inherits what the stats run cached (the compiled rule pack, the loaded knowledge
               # pack) and mutations of that code never run. A fresh import costs seconds the stats run did not
               # measure, hence the larger timeout constant.
               f"process_isolation = \"forkserver\"\nforkserver_warmup = \"{module.warmup}\"\n"
               f"timeout_constant = 10.0\n")
    (work / "pyproject.toml").write_text(config, encoding="utf-8")
    return work


def _results(work: Path, source: str) -> dict[str, int | None]:
    meta = work / "mutants" / (source + ".meta")
    data = json.loads(meta.read_text(encoding="utf-8"))
    return data.get("exit_code_by_key", {})


def run_module(name: str, module: Module, max_children: int) -> dict:
    work = _scratch(module, max_children)
    env = {k: v for k, v in os.environ.items() if k not in ("FUSIONCARE_TEST_DATABASE_URL", "CI")}
    env["PYTHONPATH"] = str(work)
    mutmut = Path(sys.executable).with_name("mutmut")
    started = time.monotonic()
    run = subprocess.run([str(mutmut), "run", "--max-children", str(max_children), *module.mutants], cwd=work, env=env,
                         capture_output=True, text=True)
    seconds = time.monotonic() - started
    if run.returncode != 0 and not (work / "mutants" / (module.source + ".meta")).exists():
        raise SystemExit(f"mutmut failed on {name}:\n{run.stdout[-3000:]}\n{run.stderr[-3000:]}")
    by_key = _results(work, module.source)
    if module.mutants:
        by_key = {k: v for k, v in by_key.items() if any(fnmatch.fnmatchcase(k, glob) for glob in module.mutants)}
    counts = {"killed": 0, "survived": 0, "timeout": 0, "no_tests": 0, "skipped": 0, "other": 0}
    survivors, equivalent = [], {}
    for key, code in sorted(by_key.items()):
        status = STATUS.get(code, "other") if code is not None else "other"
        counts[status] += 1
        if status in ("survived", "no_tests"):
            if key in EQUIVALENT:
                equivalent[key] = EQUIVALENT[key]
            else:
                survivors.append(key)
    mutants = len(by_key)
    scored = counts["killed"] + counts["timeout"]  # a mutant that hangs the tests is caught by their timeout
    judged = mutants - len(equivalent)
    report = {"module": module.source, "tests": list(module.tests), "mutants": mutants,
              **({"mutated_functions": list(module.mutants)} if module.mutants else {}), "killed": counts["killed"],
              "survived": counts["survived"], "timeouts": counts["timeout"], "no_tests": counts["no_tests"],
              "other": counts["other"] + counts["skipped"], "equivalent": equivalent,
              "score": round(scored / judged, 4) if judged else None,
              "meets_target": bool(judged) and scored / judged >= TARGET,
              "seconds": round(seconds, 1), "max_children": max_children, "surviving_mutants": survivors,
              "scratch": str(work)}
    return report


def recount(result: dict) -> dict:
    """Apply today's EQUIVALENT list to a stored result (an explanation written after the run)."""
    for key in [k for k in result["surviving_mutants"] if k in EQUIVALENT]:
        result["surviving_mutants"].remove(key)
        result.setdefault("equivalent", {})[key] = EQUIVALENT[key]
    judged = result["mutants"] - len(result.get("equivalent", {}))
    scored = result["killed"] + result["timeouts"]
    result["score"] = round(scored / judged, 4) if judged else None
    result["meets_target"] = bool(judged) and scored / judged >= TARGET
    return result


def show(names: list[str]) -> None:
    """Print the diff of each named mutant, or of every surviving mutant of a named module, from a fresh mutation of
    today's source (mutmut numbers the mutants of a function in a stable order, so the names match the report's)."""
    report = json.loads(OUT.read_text(encoding="utf-8")) if OUT.exists() else {"modules": {}}
    wanted: list[str] = []
    for name in names:
        if name in MODULES:
            wanted += report["modules"].get(name, {}).get("surviving_mutants", [])
        else:
            wanted.append(name)
    with tempfile.TemporaryDirectory(prefix="fusioncare-mutation-show-") as scratch:
        # mutmut reads its configuration from the working directory when it mutates.
        Path(scratch, "pyproject.toml").write_text('[tool.mutmut]\nsource_paths = ["fusioncare"]\n', encoding="utf-8")
        here = os.getcwd()
        os.chdir(scratch)
        try:
            from mutmut.mutation.diff_apply import get_diff_for_mutant
            from mutmut.mutation.file_mutation import mutate_file_contents

            mutated: dict[str, str] = {}
            for key in wanted:
                module = next((m for m in MODULES.values()
                               if key.startswith(m.source.removesuffix(".py").replace("/", ".") + ".")), None)
                if module is None:
                    print(f"# {key}: not a mutant of any module in MODULES")
                    continue
                if module.source not in mutated:
                    source = (ROOT / module.source).read_text(encoding="utf-8")
                    mutated[module.source] = mutate_file_contents(module.source, source).code
                print(f"# {key}" + (f" (equivalent: {EQUIVALENT[key]})" if key in EQUIVALENT else ""))
                print(get_diff_for_mutant(key, source=mutated[module.source], path=module.source), flush=True)
        finally:
            os.chdir(here)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("modules", nargs="*", choices=[[], *MODULES], help="default: all")
    parser.add_argument("--max-children", type=int, default=1)
    parser.add_argument("--keep", action="store_true", help="keep the scratch copies (to show surviving diffs)")
    parser.add_argument("--recount", action="store_true",
                        help="only re-apply the EQUIVALENT list to the stored report, running nothing")
    parser.add_argument("--show", nargs="+", metavar="NAME",
                        help="print the diffs of these mutants (or of a module's surviving ones), running nothing")
    args = parser.parse_args()
    if args.show:
        show(args.show)
        return
    if args.recount:
        report = json.loads(OUT.read_text(encoding="utf-8"))
        for result in report["modules"].values():
            result.pop("scratch", None)
            recount(result)
        OUT.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
        return
    names = args.modules or list(MODULES)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    report = json.loads(OUT.read_text(encoding="utf-8")) if OUT.exists() else {"tool": "", "modules": {}}
    report["tool"] = f"mutmut {importlib.metadata.version('mutmut')}"
    report["target"] = TARGET
    for name in names:
        result = run_module(name, MODULES[name], args.max_children)
        if not args.keep:
            shutil.rmtree(result["scratch"], ignore_errors=True)
            result.pop("scratch")
        report["modules"][name] = result
        OUT.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
        print(f"{name}: {result['mutants']} mutants, {result['killed']} killed, {result['survived']} survived, "
              f"{result['timeouts']} timeouts, {result['no_tests']} without tests: score {result['score']} "
              f"({result['seconds']} s)", flush=True)


if __name__ == "__main__":
    main()
