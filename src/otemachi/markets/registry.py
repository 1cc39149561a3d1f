"""The forecaster registry: every network stored by ``otemachi markets train`` is a version
(the first 12 hex digits of its file's hash); one of them is the champion that streams use by
default. Promotions are kept in order, so a rollback returns to the one before."""

import fcntl
import json
import os
import re
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from otemachi.core.checkpoint import read_meta
from otemachi.core.errors import CheckpointError, InvalidInput, NotFound, OtemachiError
from otemachi.core.paths import artifact_dir
from otemachi.markets import train
from otemachi.markets.model import RNNForecaster

TRAIN = "otemachi markets train --data NAME"
STORED = re.compile(r"(?P<data>.+)-(?P<cell>gru|lstm)-[0-9a-f]{12}\.safetensors")


@dataclass(frozen=True)
class Version:
    version: str
    path: Path
    data: str
    cell: str
    horizons: list[int]
    bars: int | None
    last_bar: str | None


def versions() -> list[Version]:
    """Every stored forecaster, newest first (damaged ones are left out)."""
    out = []
    folder = artifact_dir("markets", "models")
    files = sorted(folder.glob("*.safetensors"), key=lambda p: -p.stat().st_mtime_ns)
    for path in files:
        match = STORED.fullmatch(path.name)
        if match is None:
            continue
        try:
            meta = read_meta(path)
        except CheckpointError:
            continue
        config, metrics = meta.get("config", {}), meta.get("metrics", {})
        out.append(Version(str(meta.get("sha256", ""))[:12], path, match["data"], match["cell"],
                           list(config.get("horizons", [])), metrics.get("bars"),
                           metrics.get("last")))  # fmt: skip
    return out


def _file() -> Path:
    return artifact_dir("markets") / "registry.json"


def history() -> list[str]:
    """Promoted versions, oldest first; the last is the champion."""
    path = _file()
    if not path.exists():
        return []
    try:
        got = json.loads(path.read_text())["history"]
    except (ValueError, KeyError, TypeError) as e:
        raise OtemachiError(f"{path} is damaged ({e}); delete it and promote again") from e
    return [str(v) for v in got]


def _save(history: list[str]) -> None:
    """Replace the file atomically (a reader never sees half of it)."""
    fd, tmp = tempfile.mkstemp(dir=_file().parent, suffix=".tmp")
    with os.fdopen(fd, "w") as f:
        f.write(json.dumps({"history": history}))
    os.replace(tmp, _file())


@contextmanager
def _locked() -> Iterator[None]:
    """Hold the registry's lock across a read, a decision and a write, so that no other
    process writes between them (a stream promotes challengers while people promote and roll
    back)."""
    _file().parent.mkdir(parents=True, exist_ok=True)
    with (_file().parent / "registry.lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def find(prefix: str) -> Version:
    """The stored version whose id starts with ``prefix``."""
    if not re.fullmatch(r"[0-9a-f]{4,12}", prefix):
        raise InvalidInput(
            f"a version is 4 to 12 hex digits (see `markets models list`), got {prefix!r}"
        )
    hits = [v for v in versions() if v.version.startswith(prefix)]
    if not hits:
        raise NotFound(f"no stored forecaster version {prefix!r}; run `{TRAIN}`")
    if len({v.version for v in hits}) > 1:
        raise InvalidInput(f"{prefix!r} matches {len(hits)} versions; give more digits")
    return hits[0]


def promote(prefix: str) -> Version:
    """Make a stored version the champion."""
    chosen = find(prefix)
    with _locked():
        past = history()
        if not past or past[-1] != chosen.version:
            _save([*past, chosen.version])
    return chosen


def promote_over(prefix: str, champion: str) -> bool:
    """Make a stored version the champion only while ``champion`` still is (a challenger made
    from it must not override a rollback or another promotion); whether it did."""
    chosen = find(prefix)
    with _locked():
        past = history()
        if not past or past[-1] != champion:
            return False
        _save([*past, chosen.version])
    return True


def rollback() -> Version:
    """Return to the champion before the current one."""
    with _locked():
        past = history()
        if len(past) < 2:
            raise InvalidInput(
                "no earlier champion to roll back to; run `otemachi markets models promote VERSION`"
            )
        _save(past[:-1])
    return find(past[-2])


def default_model(dataset: str | None) -> Path:
    """The champion, when one is promoted; otherwise the newest forecaster trained on
    ``dataset`` (or on anything)."""
    past = history()
    return find(past[-1]).path if past else train.newest(dataset)


Follow = Callable[[str], "tuple[RNNForecaster, str] | None"]


def follow(current: str) -> tuple[RNNForecaster, str] | None:
    """The champion's network and version when the champion is not ``current``."""
    past = history()
    if not past or past[-1] == current:
        return None
    return train.load_version(find(past[-1]).path)
