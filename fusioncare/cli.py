"""The `fusioncare` command: set-up, serving, demo data and the domain tools."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console

from fusioncare.settings import get_settings


class _Cli(typer.Typer):
    """The `fusioncare` command. A database that does not answer (server down, wrong address or password, a
    locked or unreadable SQLite file) or a file the system refuses (a database directory that can't be made, a
    full disk) is reported in one line naming it, exit 1, instead of a traceback."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        from sqlalchemy.exc import OperationalError

        try:
            return super().__call__(*args, **kwargs)
        except OperationalError as exc:
            problem = _database_problem(exc)
        except OSError as exc:
            problem = f"{exc.strerror or type(exc).__name__}: {exc.filename}" if exc.filename else str(exc)
        err_console.print(f"[red]error[/red] {problem}", highlight=False, soft_wrap=True)
        raise SystemExit(1)


def _database_problem(exc: Exception) -> str:
    """What went wrong, in the driver's first line (never the password: the URL is shown with it hidden)."""
    from sqlalchemy.engine import make_url

    url = make_url(get_settings().effective_database_url).render_as_string(hide_password=True)
    cause = getattr(exc, "orig", None) or exc
    reason = (str(cause).strip().splitlines() or [type(cause).__name__])[0]
    return (f"the database {url} did not answer or refused the work ({reason}); check FUSIONCARE_DATABASE_URL "
            f"and that the database server runs")


@contextmanager
def _unless_another_import_runs() -> Iterator[None]:
    """An import refused because another runs (imports.one_at_a_time): its message in one line, exit 1."""
    from fusioncare.directory.errors import ImportInProgress

    try:
        yield
    except ImportInProgress as exc:
        err_console.print(f"[red]error[/red] {exc}", highlight=False, soft_wrap=True)
        raise typer.Exit(1) from None


app = _Cli(no_args_is_help=True, add_completion=False,
           help="FusionCare: care navigation for sciatica after spinal fusion.")
err_console = Console(stderr=True)
console = Console()


def _engine():
    from fusioncare.db import make_engine

    return make_engine(get_settings().effective_database_url)


@app.command()
def init() -> None:
    """Create or upgrade the schema of the database FUSIONCARE_DATABASE_URL names (safe to run again)."""
    from fusioncare import migrate

    engine = _engine()
    migrate.upgrade(engine)
    heads = ", ".join(sorted(migrate.current_revisions(engine)))
    url = engine.url.render_as_string(hide_password=True)
    err_console.print(f"[green]Database ready[/green] ({url}; revision {heads})")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="TCP port.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, max=64, help="Worker processes.")] = 1,
    graceful_timeout: Annotated[int, typer.Option(
        min=1, max=600, help="On SIGTERM: seconds to let requests in flight finish before closing them.")] = 30,
) -> None:
    """Serve the web app and the JSON API. SIGTERM stops taking new connections, lets the requests in flight
    finish (up to --graceful-timeout seconds), then exits 0."""
    import logging
    import signal

    import uvicorn

    from fusioncare.accounts.hardening import InsecureConfiguration, check_production_settings
    from fusioncare.operations import logs

    settings = get_settings()
    try:
        check_production_settings(settings)
    except InsecureConfiguration as exc:
        err_console.print(f"[red]{exc}[/red]", highlight=False)
        raise typer.Exit(2) from None
    metrics_dir = _metrics_directory(workers)
    logs.configure(settings)
    logging.getLogger("fusioncare.serve").info("Serving FusionCare on http://%s:%d (%s, %d worker(s))", host, port,
                                               settings.env, workers)
    # uvicorn shuts down gracefully on SIGTERM and then raises the signal again with the handler it found; this
    # one turns that into a clean exit (0), and is also what a SIGTERM before the server is up does.
    signal.signal(signal.SIGTERM, _exit_cleanly)
    try:
        # The app logs its own access lines (route templates, never query strings) and believes X-Forwarded-For
        # only from FUSIONCARE_TRUSTED_PROXIES, so uvicorn's access log and proxy handling (trusting 127.0.0.1) are
        # off.
        uvicorn.run("fusioncare.main:create_app", factory=True, host=host, port=port, workers=workers,
                    log_level=settings.log_level.lower(), log_config=logs.uvicorn_log_config(settings),
                    access_log=False, proxy_headers=False, server_header=False,
                    timeout_graceful_shutdown=graceful_timeout,
                    # uvicorn's supervisor kills a worker that does not answer its ping within this many seconds;
                    # its default of 5 killed busy workers mid-request on a saturated 2-core machine (bench_scale).
                    timeout_worker_healthcheck=30)
    finally:
        if metrics_dir is not None:
            import shutil

            shutil.rmtree(metrics_dir, ignore_errors=True)


def _exit_cleanly(_signum, _frame) -> NoReturn:
    raise SystemExit(0)


def _metrics_directory(workers: int) -> Path | None:
    """With several workers, a fresh directory for prometheus-client's multiprocess mode (see operations/metrics)."""
    import os
    import tempfile

    from fusioncare.operations.metrics import MULTIPROC_ENV

    if workers == 1 or os.environ.get(MULTIPROC_ENV):
        return None  # one process needs none; an operator's own directory is theirs to manage
    path = Path(tempfile.mkdtemp(prefix="fusioncare-metrics-"))
    os.environ[MULTIPROC_ENV] = str(path)  # inherited by the worker processes uvicorn spawns
    return path


@app.command()
def backup(
    file: Annotated[Path, typer.Argument(help="The new backup file (never overwritten).")],
) -> None:
    """Back up the database to FILE while the service runs (SQLite); for PostgreSQL, prints the pg_dump command."""
    from fusioncare.operations import service as operations

    url = get_settings().effective_database_url
    try:
        database = operations.sqlite_path(url)
        if database is None:
            err_console.print("This is a PostgreSQL database: back it up with pg_dump (PGPASSWORD or ~/.pgpass "
                              "supplies the password), for example:", highlight=False, soft_wrap=True)
            typer.echo(operations.pg_dump_command(url, file))
            raise typer.Exit(1)
        done = operations.backup_sqlite(database=database, target=file)
    except operations.OperationRefused as exc:
        err_console.print(f"[red]{exc}[/red]", highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None
    err_console.print(f"[green]Backed up[/green] {database} to {done.path} ({done.size_bytes:,} bytes, "
                      f"{done.pages:,} pages).", highlight=False, soft_wrap=True)


@app.command()
def restore(
    file: Annotated[Path, typer.Argument(help="A backup made by `fusioncare backup`.")],
) -> None:
    """Restore a SQLite backup as the configured database; refuses when a database is already there."""
    from fusioncare.operations import service as operations

    url = get_settings().effective_database_url
    try:
        database = operations.sqlite_path(url)
        if database is None:
            err_console.print("This is a PostgreSQL database: restore a pg_dump file with pg_restore into an "
                              "empty database, for example:", highlight=False, soft_wrap=True)
            typer.echo(operations.pg_restore_command(url, file))
            raise typer.Exit(1)
        done = operations.restore_sqlite(backup=file, database=database)
    except operations.OperationRefused as exc:
        err_console.print(f"[red]{exc}[/red]", highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None
    err_console.print(f"[green]Restored[/green] {file} to {done.path} ({done.size_bytes:,} bytes). Run "
                      "`fusioncare init` to bring an older backup's schema up to date.", highlight=False,
                      soft_wrap=True)


@app.command()
def demo() -> None:
    """Load the demo content (idempotent). Everything it creates is marked as demo data."""
    from fusioncare import demo as demo_content
    from fusioncare import migrate
    from fusioncare.db import make_session_factory, session_scope

    engine = _engine()
    migrate.upgrade(engine)
    with _unless_another_import_runs(), session_scope(make_session_factory(engine)) as db:
        demo_content.load(db=db, console=err_console)


@app.command("create-admin")
def create_admin(
    email: Annotated[str, typer.Argument(help="E-mail address of the new admin account.")],
) -> None:
    """Create an admin account. The password is asked for (hidden), or read from the first line of stdin."""
    from fusioncare import migrate
    from fusioncare.accounts import service as accounts
    from fusioncare.db import make_session_factory, session_scope
    from fusioncare.errors import Conflict, InvalidInput

    if sys.stdin.isatty():
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    engine = _engine()
    migrate.upgrade(engine)
    try:
        with session_scope(make_session_factory(engine)) as db:
            user = accounts.create_admin(db, email=email, password=password)
    except InvalidInput as exc:
        err_console.print(f"[red]{exc.field}: {exc.field_message}[/red]", highlight=False)
        raise typer.Exit(2) from None
    except Conflict as exc:
        err_console.print(f"[red]{exc.message}[/red]", highlight=False)
        raise typer.Exit(1) from None
    err_console.print(f"[green]Admin account created[/green] for {user.email} (user id {user.id}).", highlight=False)


def _read_input(source: str) -> str:
    if source == "-":
        return sys.stdin.read()
    try:
        return Path(source).read_text(encoding="utf-8")
    except OSError as exc:
        typer.echo(f"Cannot read {source}: {exc.strerror or exc}", err=True)
        raise typer.Exit(2) from None


def _pack_or_exit():
    from fusioncare.knowledge.loader import PackError, get_pack

    try:
        return get_pack(get_settings().knowledge_pack_dir)
    except PackError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from None


@app.command()
def assess(
    json_input: Annotated[str, typer.Option(
        "--json", metavar="FILE|-", help="A JSON request, or a JSON array of requests (batch); '-' reads stdin.")],
) -> None:
    """Assess symptoms after spinal fusion: prints the result JSON (an array of results for a batch)."""
    from fusioncare.triage import service
    from fusioncare.triage.batch import BadAssessmentInput, dump_results, parse_requests

    text = _read_input(json_input)
    try:
        parsed = parse_requests(text)
    except BadAssessmentInput as exc:
        typer.echo(f"Bad input: {exc.message}", err=True)
        raise typer.Exit(2) from None
    pack = _pack_or_exit()
    if isinstance(parsed, list):
        out = dump_results(service.assess_many(requests=parsed, pack=pack))
    else:
        out = dump_results(service.assess(request=parsed, pack=pack))
    sys.stdout.buffer.write(out + b"\n")
    sys.stdout.flush()


@app.command()
def validate(
    file: Annotated[Path, typer.Argument(help="Vignettes: a JSON or YAML list of {name, request, expect}.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON report instead of the table.")] = False,
) -> None:
    """Run clinical vignettes through the engine; prints pass/fail per case, exits 1 if any fails."""
    from rich.table import Table

    from fusioncare.triage import vignettes
    from fusioncare.triage.batch import BadAssessmentInput

    if not file.is_file():
        typer.echo(f"Cannot read {file}: no such file", err=True)
        raise typer.Exit(2)
    try:
        cases = vignettes.load_vignettes(file)
    except BadAssessmentInput as exc:
        typer.echo(f"Bad vignette file {file}: {exc.message}", err=True)
        raise typer.Exit(2) from None
    outcomes = vignettes.run(cases, pack=_pack_or_exit())
    failed = sum(not o.passed for o in outcomes)
    if as_json:
        report = {"file": str(file), "total": len(outcomes), "passed": len(outcomes) - failed, "failed": failed,
                  "urgency_matches": sum(o.urgency_matches for o in outcomes),
                  "under_triage": sum(o.under_triage for o in outcomes),
                  "cases": [o.as_dict() for o in outcomes]}
        sys.stdout.write(json.dumps(report, indent=2) + "\n")
    else:
        table = Table(title=f"Vignettes in {file.name}", show_lines=False)
        for column in ("#", "Case", "Urgency", "First specialist", "Result"):
            table.add_column(column, overflow="fold")
        for index, o in enumerate(outcomes):
            first = o.result.recommended_specialties[0].code.value if o.result.recommended_specialties else "-"
            verdict = "[green]PASS[/green]" if o.passed else "[red]FAIL[/red]"
            table.add_row(str(index), o.vignette.name, o.result.urgency.value, first, verdict)
        console.print(table)
        for index, o in enumerate(outcomes):
            if not o.passed:
                console.print(f"FAIL #{index} {o.vignette.name}: " + "; ".join(o.problems),
                              markup=False, soft_wrap=True)
        colour = "red" if failed else "green"
        under = sum(o.under_triage for o in outcomes)
        matches = sum(o.urgency_matches for o in outcomes)
        console.print(f"Urgency acceptable in {matches} of {len(outcomes)}; under-triage in {under}.")
        console.print(f"[{colour}]{len(outcomes) - failed} passed, {failed} failed[/{colour}]"
                      f" of {len(outcomes)} vignettes")
    if failed:
        raise typer.Exit(1)


def _fail_on_bad_input(exc: Exception) -> NoReturn:
    """Bad input: the message on stderr, exit 2 (no traceback reaches the user). Not wrapped at the terminal's
    width: a file path broken across lines can't be copied."""
    from pydantic import ValidationError

    from fusioncare.validation import problems_from

    if isinstance(exc, ValidationError):
        for problem in problems_from(exc):
            err_console.print(f"[red]error[/red] {problem}", highlight=False, markup=True, soft_wrap=True)
    else:
        err_console.print(f"[red]error[/red] {exc}", highlight=False, soft_wrap=True)
    raise typer.Exit(2)


@app.command("import-nppes")
def import_nppes(
    file: Annotated[Path, typer.Argument(help="An NPPES npidata_pfile_*.csv, or the .zip CMS publishes.")],
    all_taxonomies: Annotated[bool, typer.Option("--all-taxonomies", help="Keep every provider, not only those "
                                                 "with a taxonomy in the specialty map (and hospitals).")] = False,
    demo: Annotated[bool, typer.Option("--demo", help="Mark every imported provider as demo data "
                                       "(use for generated files).")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the import report as JSON on stdout.")] = False,
) -> None:
    """Import an NPPES monthly or weekly file (idempotent; a weekly file upserts)."""
    import json

    from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn

    from fusioncare import migrate
    from fusioncare.db import make_session_factory
    from fusioncare.directory.errors import UnreadableImportFile
    from fusioncare.directory.importer import import_nppes as run_import

    engine = _engine()
    migrate.upgrade(engine)
    session = make_session_factory(engine)()
    progress = Progress("[progress.description]{task.description}", BarColumn(), DownloadColumn(),
                        TimeRemainingColumn(), console=err_console, disable=not err_console.is_terminal)
    try:
        with _unless_another_import_runs(), progress:
            task = progress.add_task(f"Importing {file.name}", total=None)
            report = run_import(db=session, path=file, all_taxonomies=all_taxonomies, is_demo=demo,
                                on_progress=lambda done, total: progress.update(task, completed=done, total=total),
                                cache_dir=get_settings().data_dir / "cache")
    except UnreadableImportFile as exc:
        _fail_on_bad_input(exc)
    finally:
        session.close()
    if as_json:
        console.file.write(json.dumps(report.as_dict()) + "\n")
        return
    err_console.print(f"{report.rows} rows: {report.imported} imported, {report.updated} updated, "
                      f"{report.deactivated} deactivated, {report.skipped} skipped, {report.rejected} rejected, "
                      f"{report.unchanged} unchanged")
    for error in report.errors[:20]:
        err_console.print(f"  line {error.line} (NPI {error.npi or '?'}): {error.reason}", highlight=False)
    if len(report.errors) > 20:
        err_console.print(f"  ... {report.rejected - 20} more; use --json for all of them")


@app.command("generate-nppes")
def generate_nppes(
    out: Annotated[Path, typer.Option("--out", help="Where to write the CSV.")],
    rows: Annotated[int, typer.Option("--rows", min=1, max=20_000_000, help="Number of data rows.")] = 10_000,
    seed: Annotated[int, typer.Option("--seed", help="Same seed, same file.")] = 1,
) -> None:
    """Write a synthetic NPPES file (exact 330-column format, valid NPIs, real ZIPs; import it with --demo)."""
    from fusioncare.directory.generator import generate_file

    stats = generate_file(out, rows=rows, seed=seed)
    err_console.print(f"Wrote {stats.rows} rows to {out} ({stats.relevant} in the specialty map, "
                      f"{stats.deactivated} deactivated, {stats.reactivated} reactivated, {stats.bad} bad rows, "
                      f"{stats.foreign} foreign addresses). Synthetic: import with --demo.")


def _run_cms_import(kind: str, file: Path, year: int | None, demo: bool, as_json: bool) -> None:
    """import-cms-utilization and import-cms-clinicians: run, then print the report (JSON or a summary)."""
    import json

    from fusioncare import migrate
    from fusioncare.db import make_session_factory
    from fusioncare.directory import cms_import
    from fusioncare.directory.errors import UnreadableImportFile

    engine = _engine()
    migrate.upgrade(engine)
    session = make_session_factory(engine)()
    try:
        with _unless_another_import_runs():
            if kind == "utilization":
                report = cms_import.import_utilization(db=session, path=file, year=year, is_demo=demo)
            else:
                report = cms_import.import_clinicians(db=session, path=file, year=year, is_demo=demo)
    except UnreadableImportFile as exc:
        _fail_on_bad_input(exc)
    finally:
        session.close()
    if report.encoding != "utf-8":
        err_console.print("note: the file is not UTF-8; it was read as Windows-1252 (cp1252)", highlight=False)
    if report.directory_providers == 0:
        err_console.print("note: the directory holds no providers, so no clinician's rows were kept (only the "
                          "directory's clinicians are); run `fusioncare import-nppes` first, then this import again",
                          highlight=False)
    if as_json:
        console.file.write(json.dumps(report.as_dict()) + "\n")
        return
    err_console.print(f"{report.rows} rows ({report.year}): {report.kept} kept, {report.rejected} rejected; "
                      f"{report.matched_providers} providers in the directory, {report.unmatched_npis} NPIs not in "
                      f"it", highlight=False)
    for error in sorted(report.errors, key=lambda e: e.line)[:20]:
        err_console.print(f"  line {error.line}: {error.reason}", highlight=False)
    if len(report.errors) > 20:
        err_console.print(f"  ... {len(report.errors) - 20} more; use --json for all of them", highlight=False)


_CMS_YEAR_HELP = "The data year (default: from the CMS file name, e.g. ..._D23_... is 2023)."


@app.command("import-cms-utilization")
def import_cms_utilization(
    file: Annotated[Path, typer.Argument(help="Medicare Physician & Other Practitioners - by Provider and Service "
                                              "(.csv, the legacy tab-separated .txt, or the .zip).")],
    year: Annotated[int | None, typer.Option("--year", help=_CMS_YEAR_HELP)] = None,
    demo: Annotated[bool, typer.Option("--demo", help="Mark the figures as demo data (generated files).")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the import report as JSON on stdout.")] = False,
) -> None:
    """Import one year of Medicare procedure volumes (only the codes the knowledge pack names); replaces that year."""
    _run_cms_import("utilization", file, year, demo, as_json)


@app.command("import-cms-clinicians")
def import_cms_clinicians(
    file: Annotated[Path, typer.Argument(help="The Doctors and Clinicians National Downloadable File "
                                              "(DAC_NationalDownloadableFile.csv or a .zip).")],
    year: Annotated[int | None, typer.Option("--year", help="The release's year (default: this year).")] = None,
    demo: Annotated[bool, typer.Option("--demo", help="Mark the facts as demo data (generated files).")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the import report as JSON on stdout.")] = False,
) -> None:
    """Import the Doctors and Clinicians file for the directory's providers: practices, phones, telehealth, Medicare
    assignment; replaces the last. Import NPPES first (import-nppes): rows of NPIs not in the directory are counted,
    not kept."""
    _run_cms_import("clinicians", file, year, demo, as_json)


@app.command("generate-cms-utilization")
def generate_cms_utilization(
    out: Annotated[Path, typer.Option("--out", help="Where to write the CSV (name it ..._D24_... for data year "
                                                    "2024).")],
    rows: Annotated[int | None, typer.Option("--rows", min=1, max=20_000_000, help="Rows of made-up clinicians; "
                                             "without it, every row for the directory's demo providers.")] = None,
    seed: Annotated[int, typer.Option("--seed", help="Same seed, same file.")] = 1,
) -> None:
    """Write a synthetic "by Provider and Service" file in the exact current 28-column layout (import with --demo)."""
    _generate_cms("utilization", out, rows, seed)


@app.command("generate-cms-clinicians")
def generate_cms_clinicians(
    out: Annotated[Path, typer.Option("--out", help="Where to write the CSV.")],
    rows: Annotated[int | None, typer.Option("--rows", min=1, max=20_000_000, help="Rows of made-up clinicians; "
                                             "without it, rows for the directory's demo providers.")] = None,
    seed: Annotated[int, typer.Option("--seed", help="Same seed, same file.")] = 1,
) -> None:
    """Write a synthetic Doctors and Clinicians file in the exact current 31-column layout (import with --demo)."""
    _generate_cms("clinicians", out, rows, seed)


def _generate_cms(kind: str, out: Path, rows: int | None, seed: int) -> None:
    from sqlalchemy import select

    from fusioncare.db import make_session_factory
    from fusioncare.directory import cms_generator
    from fusioncare.directory.models import Provider

    seeds = None
    if rows is None:
        session = make_session_factory(_engine())()
        try:
            seeds = cms_generator.seeds_from_directory(session.scalars(
                select(Provider).where(Provider.is_demo.is_(True), Provider.is_active.is_(True))
                .order_by(Provider.npi)))
        finally:
            session.close()
        if not seeds:
            _fail_on_bad_input(ValueError("rows: the directory holds no demo providers; run `fusioncare demo` "
                                          "first, or give --rows"))
    write = cms_generator.generate_utilization if kind == "utilization" else cms_generator.generate_clinicians
    written = write(out, rows=rows, seed=seed, clinicians=seeds)
    err_console.print(f"Wrote {written} rows to {out}. Synthetic: import with --demo.", highlight=False)


@app.command("search-providers")
def search_providers(
    specialty: Annotated[str, typer.Option("--specialty", help="A specialty code, e.g. pain_medicine.")],
    near: Annotated[str, typer.Option("--near", help="A 5-digit ZIP code or 'lat,lon'.")],
    radius_miles: Annotated[float, typer.Option("--radius-miles", help="1 to 100 miles.")] = 25,
    q: Annotated[str | None, typer.Option("--q", help="Part of a name (forgiving).")] = None,
    limit: Annotated[int, typer.Option("--limit", help="1 to 100 results.")] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result page as JSON.")] = False,
) -> None:
    """Search the directory by specialty and distance, nearest first."""
    from pydantic import ValidationError

    from fusioncare.db import make_session_factory
    from fusioncare.directory import service
    from fusioncare.directory.schemas import ProviderRead, ProviderSearch, ProviderSearchPage
    from fusioncare.errors import InvalidInput

    try:
        params = ProviderSearch(specialty=specialty, near=near, radius_miles=radius_miles, q=q, limit=limit)
    except ValidationError as exc:
        _fail_on_bad_input(exc)
    session = make_session_factory(_engine())()
    try:
        result = service.search_providers(db=session, params=params)
    except InvalidInput as exc:
        _fail_on_bad_input(exc)
    finally:
        session.close()
    page = ProviderSearchPage(total=result.total, total_is_exact=result.total_is_exact, next_cursor=result.next_cursor,
                              results=[ProviderRead.from_provider(h.provider, h.distance_miles) for h in result.hits])
    if as_json:
        console.file.write(page.model_dump_json() + "\n")
        return
    console.print(f"{page.total:,}{'' if page.total_is_exact else '+'} found within {radius_miles:g} miles of {near}")
    for r in page.results:
        demo_label = " [demo data]" if r.is_demo else ""
        console.print(f"{r.distance_miles:6.2f} mi  {r.name}{', ' + r.credential if r.credential else ''}  "
                      f"{r.location.address or ''}, {r.location.city or ''} {r.location.state or ''}  "
                      f"{r.phone or ''}  NPI {r.npi}{demo_label}", highlight=False)




@app.command("send-reminders")
def send_reminders(
    limit: Annotated[int, typer.Option(min=1, max=10_000, help="Most e-mails to send in this run.")] = 500,
) -> None:
    """Send the appointment e-mails that are due (requests, decisions, changes, the 24 h and 2 h reminders) once;
    safe beside running workers. `fusioncare serve` and `fusioncare worker` do this continuously."""
    from fusioncare.db import make_session_factory
    from fusioncare.notifications import build_notifier
    from fusioncare.scheduling.outbox import send_due

    settings = get_settings()
    session = make_session_factory(_engine())()
    try:
        report = send_due(db=session, notifier=build_notifier(settings), base_url=settings.base_url, limit=limit)
    finally:
        session.close()
    err_console.print(f"Appointment e-mails sent: {report.sent}; failed (will retry): {report.failed}; "
                      f"skipped: {report.skipped}")


@app.command()
def worker(
    poll_seconds: Annotated[float | None, typer.Option(min=0.05, max=3600, help="Seconds between looks at the "
                                                       "outbox (default FUSIONCARE_OUTBOX_POLL_SECONDS).")] = None,
) -> None:
    """Send appointment e-mails as they fall due, until stopped. On SIGTERM or Ctrl-C it finishes the message it
    is sending and exits. For deployments that run the worker apart from `fusioncare serve` (set
    FUSIONCARE_OUTBOX_WORKER=off there); several may run at once."""
    import signal

    from fusioncare.db import make_session_factory
    from fusioncare.notifications import build_notifier
    from fusioncare.scheduling.outbox import OutboxWorker

    settings = get_settings()
    outbox = OutboxWorker(session_factory=make_session_factory(_engine()), notifier=build_notifier(settings),
                          base_url=settings.base_url, poll_seconds=poll_seconds or settings.outbox_poll_seconds)

    def stop(signum: int, _frame: object) -> None:
        err_console.print(f"Stopping ({signal.Signals(signum).name}): finishing the message in hand.")
        outbox.stopping.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    err_console.print(f"Outbox worker running (every {outbox.poll_seconds:g} s); SIGTERM or Ctrl-C stops it.")
    outbox.run()
    err_console.print("Outbox worker stopped.")


if __name__ == "__main__":  # pragma: no cover
    app()
