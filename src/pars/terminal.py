"""What every `pars` command shares: the consoles and reading the settings, so a command with
bad settings stops with one clear message and exit code 2."""

from __future__ import annotations

import typer
from rich.console import Console

from pars.settings import Settings

console = Console()
err = Console(stderr=True)


def settings_or_exit() -> Settings:
    try:
        return Settings()
    except ValueError as exc:  # pydantic's ValidationError names every bad setting
        err.print(f"[red]Invalid settings:[/red] {exc}")
        raise typer.Exit(2) from exc
