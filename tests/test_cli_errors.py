"""The CLI contract for mistakes: one line on stderr, exit status 2, no banner, no traceback."""

import subprocess
import sys
from pathlib import Path

import pytest

from otemachi import __version__
from otemachi.cli import main


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["frobnicate"], "No such command 'frobnicate'"),
        (["serve", "--port", "99999"], "--port"),
        (["markets", "backtest"], "Missing option '--data'"),
        (["markets", "backtest", "--data", "sp500", "--nope"], "No such option"),
        (["markets", "backtest", "--data", "sp500", "--seed", "x"], "--seed"),
        (["picking", "scene", "--seed", "-1"], "--seed"),
        (["demo", "--only", "[bold]x"], "unknown system(s) ['[bold]x']"),  # no markup eaten
    ],
)
def test_mistakes_are_one_line_and_exit_2(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(args) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1, err
    assert message in err and err.startswith("error:") and "Traceback" not in err


def test_demo_checks_its_out_folder_first(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "file.txt").write_text("a file")
    assert main(["demo", "--out", str(tmp_path / "file.txt")]) == 2
    assert "is an existing file" in capsys.readouterr().err
    assert main(["demo", "--out", str(tmp_path / "no" / "such")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_version_prints_no_pybullet_banner() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "otemachi.cli", "version"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert done.stdout == f"{__version__}\n" and "pybullet" not in done.stderr


def test_no_command_shows_the_help_not_an_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    captured = capsys.readouterr()
    assert "Usage" in captured.out + captured.err and "error:" not in captured.err
