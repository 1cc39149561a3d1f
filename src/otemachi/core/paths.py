"""Where artifacts live: OTEMACHI_HOME (default ~/.cache/otemachi)."""

import os
from pathlib import Path


def home() -> Path:
    """Return the artifact root, creating it if needed.

    Set ``OTEMACHI_HOME`` to move it; otherwise ``$XDG_CACHE_HOME/otemachi`` or
    ``~/.cache/otemachi``.
    """
    env = os.environ.get("OTEMACHI_HOME")
    if env:
        root = Path(env).expanduser()
    else:
        cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
        root = Path(cache) / "otemachi"
    root.mkdir(parents=True, exist_ok=True)
    return root


def artifact_dir(system: str, *parts: str) -> Path:
    """Return (and create) ``home()/system/parts...``."""
    path = home().joinpath(system, *parts)
    path.mkdir(parents=True, exist_ok=True)
    return path
