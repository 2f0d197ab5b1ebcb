"""The bundled real sample (Kent street crime 2025-07..12, Kent stop and search 2018-01..12).

Kept in the library, not in a command, so scripts, notebooks and the README's example can
find it without importing the CLI.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path


def sample_dir() -> Path:
    """Folder of the bundled sample (real Kent data shipped inside the package)."""
    return Path(str(resources.files("harmscope") / "sample" / "police"))
