"""The `harmscope simulate` group, shared by the modules that add a subcommand to it.

It lives here (an underscore helper) so `commands/crimes.py` can add `simulate crimes`
without importing another command module.
"""

from __future__ import annotations

import typer

simulate_app = typer.Typer(
    help="Synthetic data with known ground truth (always labelled synthetic).", no_args_is_help=True
)
