from pathlib import Path

import pytest

from otemachi import __version__
from otemachi.cli import main


@pytest.mark.parametrize(
    "args", [["--help"], ["markets", "--help"], ["picking", "--help"], ["signatures", "--help"]]
)
def test_help_at_every_level(args: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(args) == 0
    assert "Usage" in capsys.readouterr().out


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["version"]) == 0
    assert capsys.readouterr().out.strip() == __version__


def test_unknown_command_is_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["frobnicate"]) == 2
    assert "No such command" in capsys.readouterr().err


def test_bad_value_is_one_line_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "--port", "99999"]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and "--port" in err


def test_library_error_is_one_line_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["demo", "--only", "nosuchsystem", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "unknown system" in err and "Traceback" not in err


def test_debug_shows_traceback(tmp_path: Path) -> None:
    from otemachi.core.errors import OtemachiError

    with pytest.raises(OtemachiError):
        main(["--debug", "demo", "--only", "nosuchsystem", "--out", str(tmp_path)])
