"""`pars users set-password USER_ID` (CONTRACT §1): a user's password for the web pages, asked
for at the terminal (twice, hidden), never taken from the command line."""

from __future__ import annotations

import uuid
from typing import Annotated

import typer
from sqlalchemy import inspect

from pars.actors import SYSTEM
from pars.audit.signing import AuditKeyError
from pars.auth.signin import PASSWORD_MIN_LENGTH, set_password
from pars.clock import SystemClock
from pars.db import command_engine
from pars.errors import DomainError
from pars.terminal import console, err, settings_or_exit
from pars.work import command_work

users_app = typer.Typer(help="People who sign in to the web pages.", no_args_is_help=True)


@users_app.command("set-password")
def set_password_command(
    user_id: Annotated[str, typer.Argument(help="the user's id (from POST /api/v1/users or demo-keys.json)")],
    username: Annotated[str | None, typer.Option(help="also a user name to sign in with, instead of the id")] = None,
) -> None:
    """Set a user's password for the web pages. The first sign-in then enrols an authenticator."""
    settings = settings_or_exit()
    try:
        user = uuid.UUID(user_id)
    except ValueError:
        err.print(f"[red]{user_id!r} is not a user id (a UUID)[/red]")
        raise typer.Exit(2) from None
    engine = command_engine(settings)
    if not inspect(engine).has_table("credentials"):
        err.print("[red]The database is not initialised or not upgraded: run `pars init` first.[/red]")
        raise typer.Exit(2)
    password = typer.prompt(
        f"New password (at least {PASSWORD_MIN_LENGTH} characters)", hide_input=True, confirmation_prompt=True
    )
    try:
        with command_work(settings, engine, SystemClock()) as session:
            credentials = set_password(session, SYSTEM, user, password, username=username)
            name = credentials.user.name
    except DomainError as error:
        err.print(f"[red]{error.detail}[/red]")
        raise typer.Exit(1) from None
    except AuditKeyError as error:
        err.print(f"[red]{error}[/red]")
        raise typer.Exit(2) from None
    finally:
        engine.dispose()
    console.print(f"Password set for {name}. Open sessions ended; the next sign-in asks for the authenticator code.")
