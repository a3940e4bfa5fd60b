"""The `fusioncare` command: set-up, serving, demo data and the domain tools."""

from __future__ import annotations

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
    import sys

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


if __name__ == "__main__":  # pragma: no cover
    app()
