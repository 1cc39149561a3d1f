"""PyBullet, imported once without the build banner its C code prints on import."""

import contextlib
import ctypes
import os
import sys
from types import ModuleType


def _flush_c_stdio() -> None:
    """Flush C's stdio buffers (the banner sits there when stdout is a pipe)."""
    with contextlib.suppress(Exception):
        ctypes.CDLL(None).fflush(None)


def _quiet_import() -> ModuleType:
    """``import pybullet`` with file descriptors 1 and 2 pointing at /dev/null meanwhile."""
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        saved = (os.dup(1), os.dup(2))
    except OSError:  # no stdout or stderr to protect
        import pybullet

        return pybullet
    null = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(null, 1)
        os.dup2(null, 2)
        import pybullet

        _flush_c_stdio()
    finally:
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for fd in (*saved, null):
            os.close(fd)
    return pybullet


pb = _quiet_import()
