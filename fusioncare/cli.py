"""The `fusioncare` command: set-up, serving, demo data and the domain tools."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from fusioncare.settings import get_settings

app = typer.Typer(no_args_is_help=True, add_completion=False, help="FusionCare: care navigation for sciatica after spinal fusion.")
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
    err_console.print(f"[green]Database ready[/green] ({engine.url.render_as_string(hide_password=True)}; revision {heads})")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="TCP port.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, max=64, help="Worker processes.")] = 1,
) -> None:
    """Serve the web app and the JSON API."""
    import uvicorn

    from fusioncare.accounts.hardening import InsecureConfiguration, check_production_settings

    settings = get_settings()
    try:
        check_production_settings(settings)
    except InsecureConfiguration as exc:
        err_console.print(f"[red]{exc}[/red]", highlight=False)
        raise typer.Exit(2) from None
    err_console.print(f"Serving FusionCare on http://{host}:{port} ({settings.env}, {workers} worker(s))")
    uvicorn.run("fusioncare.main:create_app", factory=True, host=host, port=port, workers=workers,
                log_level=settings.log_level.lower(), proxy_headers=True)


@app.command()
def demo() -> None:
    """Load the demo content (idempotent). Everything it creates is marked as demo data."""
    from fusioncare import demo as demo_content
    from fusioncare import migrate
    from fusioncare.db import make_session_factory, session_scope

    engine = _engine()
    migrate.upgrade(engine)
    with session_scope(make_session_factory(engine)) as db:
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
    json_input: Annotated[str, typer.Option("--json", metavar="FILE|-",
                                            help="A JSON request, or a JSON array of requests (batch); '-' reads stdin.")],
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
                console.print(f"FAIL #{index} {o.vignette.name}: " + "; ".join(o.problems), markup=False, soft_wrap=True)
        colour = "red" if failed else "green"
        console.print(f"[{colour}]{len(outcomes) - failed} passed, {failed} failed[/{colour}] of {len(outcomes)} vignettes")
    if failed:
        raise typer.Exit(1)


if __name__ == "__main__":  # pragma: no cover
    app()
