"""`harmscope users`: web workspace accounts (add, list, disable) and the audit check."""

from __future__ import annotations

import os

import typer

from harmscope.commands import _validate as validate
from harmscope.commands._common import DbOption, JsonOption, print_json, table

PASSWORD_ENV = "HARMSCOPE_PASSWORD"

users_app = typer.Typer(
    help="Web workspace accounts: add, list, disable; verify the web audit trail.",
    no_args_is_help=True,
)


def _password() -> str:
    """From HARMSCOPE_PASSWORD (scripts), else asked twice at the terminal: never an option,
    so it stays out of the shell history and the process list."""
    given = os.environ.get(PASSWORD_ENV)
    if given:
        return given
    return typer.prompt("Password", hide_input=True, confirmation_prompt=True)


@users_app.command("add")
def add_cmd(
    name: str = typer.Argument(..., help="Account name (letters, digits, . _ - @)."),
    role: str = typer.Option(..., "--role", help="partner | analyst | admin."),
    agency: str = typer.Option(
        None, "--agency", help="police | health | council (partner accounts only)."
    ),
    db: str = DbOption,
) -> None:
    """Add an account; the password comes from HARMSCOPE_PASSWORD or a prompt."""
    validate.store_path(db)
    from harmscope.store import Store
    from harmscope.web.auth import _check_account_fields, create_account

    _check_account_fields(name, role, agency, "x" * 64)  # before asking for a password
    password = _password()
    with Store.open(db) as store:
        user = create_account(store, name, role, password, agency)
    typer.echo(f"added {user.name} ({user.role}{', ' + user.agency if user.agency else ''})")


@users_app.command("list")
def list_cmd(db: str = DbOption, json_out: bool = JsonOption) -> None:
    """The accounts: name, role, agency, disabled, created."""
    validate.store_path(db)
    from harmscope.store import Store
    from harmscope.store.queries.web import accounts

    with Store.open(db) as store:
        df = accounts(store)
    rows = [
        {
            "name": r["name"],
            "role": r["role"],
            "agency": r["agency"] if isinstance(r["agency"], str) else None,
            "disabled": bool(r["disabled"]),
            "created_at": str(r["created_at"]),
        }
        for r in df.to_dict(orient="records")
    ]
    if json_out:
        print_json({"accounts": rows})
        return
    t = table("Accounts", ("name", "role", "agency", "disabled", "created"))
    for r in rows:
        t.add_row(r["name"], r["role"], r["agency"] or "", str(r["disabled"]), r["created_at"])
    from rich.console import Console

    Console().print(t)


@users_app.command("disable")
def disable_cmd(name: str = typer.Argument(...), db: str = DbOption) -> None:
    """Disable an account and end its sessions."""
    validate.store_path(db)
    from harmscope.store import Store
    from harmscope.web.auth import disable_account

    with Store.open(db) as store:
        disable_account(store, name)
    typer.echo(f"disabled {name}")


@users_app.command("verify-audit")
def verify_cmd(db: str = DbOption, json_out: bool = JsonOption) -> None:
    """Check the web audit trail's hash chain; exits 1 at the first edited or missing row.

    Keep the printed head (rows, hash) outside the store: a later check with fewer rows or
    another hash at that row means the newest rows were cut."""
    validate.store_path(db)
    from harmscope.store import Store
    from harmscope.web.audit import check

    with Store.open(db) as store:
        v = check(store)
    doc = {"ok": v.ok, "first_bad_id": v.first_bad_id, "problem": v.problem, "rows": v.rows,
           "head": v.head}
    if json_out:
        print_json(doc)
    elif v.ok:
        typer.echo(f"audit chain whole: {v.rows} rows, head {v.head}")
    else:
        typer.echo(f"audit chain BROKEN at row {v.first_bad_id}: {v.problem}", err=True)
    if not v.ok:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.add_typer(users_app, name="users")
