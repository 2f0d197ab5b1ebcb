"""CLI command modules. Each exposes ``register(app: typer.Typer) -> None``; cli.py finds them."""
