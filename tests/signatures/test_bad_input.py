"""Bad paths and flags a new user tries with signatures: one-line errors, exit status 2."""

from pathlib import Path

import pytest

from otemachi.core.errors import InvalidInput
from otemachi.signatures import data, preprocess

from ..cli_checks import refused_in_one_line


def test_a_file_where_a_folder_belongs_and_the_reverse(tmp_path: Path) -> None:
    (tmp_path / "file.png").write_bytes(b"not an image")
    with pytest.raises(InvalidInput, match="is a file"):
        data.open_dataset(tmp_path / "file.png")
    with pytest.raises(InvalidInput, match="is a folder"):
        preprocess.read_image(tmp_path)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["synth", "--writers", "1", "--out", "file.txt"], "is an existing file"),
        (["synth", "--writers", "1", "--out", "no/such/corpus"], "does not exist"),
        (["synth", "--writers", "1", "--out", "corpus", "--seed", "-1"], "--seed"),
        (["evaluate", "--out", "file.txt"], "is an existing file"),
        (["evaluate", "--method", "svm,svm"], "more than once"),
        (["evaluate", "--data", "file.txt", "--out", "eval"], "is a file"),
        (["evaluate", "--scans", "twice", "--out", "eval"], "scans must be one of"),
        (["evaluate", "--data", "tune-wider", "--out", "eval"], "tune-wider"),
    ],
)
def test_cli_refuses_in_one_line(
    args: list[str],
    message: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "file.txt").write_text("a file")
    refused_in_one_line(["signatures", *args], message, capsys)


def test_the_base_named_in_the_environment_is_checked_and_typed() -> None:
    from otemachi.signatures.api import base_config

    named = base_config("dev_writers=80, epochs=5, wide=1, metric=1")
    assert named.wide == 1.0 and isinstance(named.wide, float) and named.epochs == 5
    assert named == base_config("dev_writers=80,epochs=5,wide=1.0,metric=1.0")  # one base
    assert base_config("scans=both").scans == "both" and base_config("").scans == "plain"
    for bad in ("wide=x", "nope=1", "epochs=1.5", "epochs=", "wide=nan", "seed=-1", "scans=x"):
        with pytest.raises(InvalidInput, match="is not NAME=NUMBER"):
            base_config(bad)
    with pytest.raises(InvalidInput, match="scans must be one of"):
        data.SynthDataset(2, scans="rescanned")
