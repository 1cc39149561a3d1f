"""Checks on the files and folders a user names, made before any work starts."""

import os
from pathlib import Path

from otemachi.core.errors import InvalidInput, NotFound


def input_file(path: Path, what: str = "file") -> Path:
    """``path`` if it is an existing regular file; otherwise a NotFound or an InvalidInput that
    says what it is instead (a folder, a device, ...)."""
    path = Path(path)
    a = "an" if what[:1].lower() in "aeiou" else "a"
    if not path.exists():
        raise NotFound(f"no such {what}: {path}")
    if path.is_dir():
        raise InvalidInput(f"{path} is a folder; give the path of {a} {what}")
    if not path.is_file():
        raise InvalidInput(f"{path} is not a regular file; give the path of {a} {what}")
    return path


def _parent(path: Path, flag: str) -> None:
    parent = path.absolute().parent
    if not parent.is_dir():
        raise InvalidInput(
            f"{flag} {path}: the folder {parent} does not exist; create it first or choose "
            "another path"
        )
    if not os.access(parent, os.W_OK):
        raise InvalidInput(f"{flag} {path}: the folder {parent} is not writable")


def output_folder(path: Path, flag: str = "--out") -> Path:
    """Check that ``path`` can become a folder of outputs: an existing folder, or a new name in
    an existing writable folder. Nothing is created."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise InvalidInput(f"{flag} {path} is an existing file, but a folder is needed here")
    if not path.exists():
        _parent(path, flag)
    elif not os.access(path, os.W_OK):
        raise InvalidInput(f"{flag} {path}: the folder is not writable")
    return path


def output_file(path: Path, flag: str = "--out", suffixes: tuple[str, ...] = ()) -> Path:
    """Check that ``path`` can be written as a file (replacing an existing file is fine): not a
    folder, in an existing writable folder, and ending in one of ``suffixes`` when given."""
    path = Path(path)
    if path.is_dir():
        raise InvalidInput(f"{flag} {path} is a folder, but a file name is needed here")
    if suffixes and path.suffix.lower() not in suffixes:
        raise InvalidInput(f"{flag} {path} must end in one of {', '.join(suffixes)}")
    _parent(path, flag)
    return path
