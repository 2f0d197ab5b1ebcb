"""`harmscope serve`: the partnership's web workspace (issue 16) on one store."""

from __future__ import annotations

import typer

from harmscope.commands import _validate as validate
from harmscope.commands._common import DbOption
from harmscope.errors import HarmscopeError


def register(app: typer.Typer) -> None:
    @app.command()
    def serve(
        db: str = DbOption,
        host: str = typer.Option(
            "127.0.0.1",
            "--host",
            help="Address to listen on (default loopback only; put a TLS proxy in front to "
            "serve others).",
        ),
        port: int = typer.Option(8000, "--port", help="TCP port."),
        log_level: str = typer.Option("warning", "--log-level", help="uvicorn log level."),
        warm: bool = typer.Option(
            False,
            "--warm",
            help="Build the public dashboard, stop and search, profile and hotspots in the "
            "background at start, so the first visitors are served from the cache.",
        ),
    ) -> None:
        """Serve the web workspace: dashboard, pages and REST API for each role, audited."""
        validate.store_path(db)
        if not 0 < port < 65536:
            raise HarmscopeError(
                f"port {port} is out of range", where="--port", fix="use 1-65535, e.g. 8000"
            )
        import uvicorn

        from harmscope.web.app import WARM, create_app
        from harmscope.web.settings import WebSettings

        settings = WebSettings.from_env(db)
        settings.warm = WARM if warm else ()
        app_ = create_app(db, settings=settings)  # opens and migrates: a bad --db fails here
        typer.echo(f"harmscope serving on http://{host}:{port} (Ctrl-C to stop)", err=True)
        if host not in ("127.0.0.1", "::1", "localhost"):
            typer.echo(
                "Note: sign-in cookies are Secure (https only) for any host but loopback: put a "
                "TLS proxy in front (docs/web.md), or browsers will not keep the session.",
                err=True,
            )
        # one process: an embedded DuckDB file allows one writer (docs/web.md)
        uvicorn.run(app_, host=host, port=port, log_level=log_level, workers=1)
