"""A shared check for command-line tests: bad input gets one line on stderr and exit status 2."""

import pytest

from otemachi.cli import main


def refused_in_one_line(argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    """``otemachi argv`` exits 2 with ``message`` in one line and no traceback."""
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
