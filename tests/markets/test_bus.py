"""The bus against a real redis-server: the same forecasts as the in-process pipeline, bad
messages to the dead-letter stream, a worker SIGKILLed mid-replay and a Redis restart losing
nothing, and the stream command with worker processes."""

import json
import os
import signal
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import redis

from otemachi.cli import main
from otemachi.core.seeding import torch_seeded
from otemachi.markets import runner, sources, stream, train
from otemachi.markets.bus import BusDown, Commit, MemoryBus, encode
from otemachi.markets.live import WARM, LiveState
from otemachi.markets.model import RNNConfig, RNNForecaster
from otemachi.markets.redis_bus import RedisBus
from otemachi.markets.worker import Worker
from tests.services import RedisServer

pytestmark = pytest.mark.redis
CFG = RNNConfig(hidden=8, layers=1, horizons=(1, 5))


@pytest.fixture(scope="module")
def net() -> RNNForecaster:
    with torch_seeded(2):
        return RNNForecaster(CFG).eval()


def _checkpoint(net: RNNForecaster) -> tuple[Path, str]:
    model = train.RNNModel(CFG, train.TrainConfig())
    model.net = net
    path = train.save_model(model, "bus-test", "none", {})
    return path, train.load_version(path)[1]


def _messages(n: int, bars: int, seed: int = 3) -> list[Any]:
    return list(sources.messages(sources.synthetic(n, bars, seed=seed)))


def _direct(net: RNNForecaster, msgs: list[Any]) -> dict[tuple[str, str], np.ndarray]:
    out = stream.Pipeline(LiveState(net), "v").run(msgs)
    return {(p.symbol, p.time.isoformat()): p.ret_q for p in out}


def _assert_same(got: list[dict[str, Any]], want: dict[tuple[str, str], np.ndarray]) -> None:
    keys = [(f["symbol"], f["time"]) for f in got]
    assert len(keys) == len(set(keys)) == len(want)  # every bar forecast exactly once
    for f in got:
        np.testing.assert_allclose(f["ret_q"], want[(f["symbol"], f["time"])], atol=1e-6)


BAD = ["not a bar", {"symbol": "SYN0001"}, {"symbol": "SYN0002", "time": "2000-01-04",
       "open": 1.0, "high": float("inf"), "low": 1.0, "close": 1.0, "volume": 1.0}]  # fmt: skip


@pytest.mark.parametrize("kind", ["memory", "redis"])
def test_a_bus_gives_the_in_process_forecasts_and_dead_letters(
    kind: str, net: RNNForecaster, request: pytest.FixtureRequest
) -> None:
    msgs = _messages(12, 40)
    msgs[30:30] = BAD
    msgs.insert(60, msgs[5])  # a duplicate of an early bar: out of order
    want = _direct(net, msgs)
    if kind == "redis":
        server: RedisServer = request.getfixturevalue("redis_server")
        bus: Any = RedisBus.url(server.url, shards=3)
        bus.reset()
    else:
        bus = MemoryBus(shards=3)
    assert bus.send(msgs) == 12 * 40 + len(BAD) + 1
    bus.end()
    committed: list[Any] = []
    Worker(bus, net, "v", name="w", on_commit=committed.append).run(block_ms=10)
    if kind == "redis":
        got, dead, counts = bus.forecasts(), [r for r, _ in bus.dead_letters()], bus.counts()
    else:
        got = [d for c in committed for b in c.published for d in b.docs()]
        dead, counts = [d.reason for d in bus.dead], bus.counts
    _assert_same(got, want)
    assert sorted(r.split(":")[0] for r in dead) == ["bad value", "malformed", "malformed",
                                                       "out of order"]  # fmt: skip
    assert counts["bars"] == 480 and bus.all_ended()


def test_foreign_entries_on_a_shard_stream_are_dead_letters(
    net: RNNForecaster, redis_server: RedisServer
) -> None:
    bus = RedisBus.url(redis_server.url, shards=1)
    bus.reset()
    msgs = _messages(2, 10)
    bus.send(msgs[:6])
    hostile = [
        {"foo": "x"},
        {"k": "bar", "m": "{not json", "t": "soon"},
        {"k": "bar"},
        {"k": "bar", "m": "[" * 100_000 + "]" * 100_000},  # too deep to decode
        {"k": "bar", "m": "[" * 900 + "]" * 900},  # decodes, too deep to encode again
        {"k": "bar", "m": encode(msgs[7]), "t": "9" * 5000},  # a bar, a wild send time
        {"k": "cols", "symbols": "A\nB", "ohlcv": b"\x00" * 7},  # a damaged bar time
    ]
    for fields in hostile:
        bus.r.xadd(bus._k("bars", 0), fields)
    bus.send(msgs[6:])
    bus.end()
    Worker(bus, net, "v", name="w").run(block_ms=10)
    _assert_same(bus.forecasts(), _direct(net, msgs))
    reasons = [r.split(":")[0] for r, _ in bus.dead_letters()]
    assert reasons == ["malformed"] * 6 + ["duplicate"], reasons  # the resent bar is a duplicate


def test_a_worker_with_another_model_takes_a_shard_over_and_warms_its_network(
    net: RNNForecaster, redis_server: RedisServer
) -> None:
    with torch_seeded(3):
        other = RNNForecaster(RNNConfig(cell="lstm", hidden=6, layers=1, horizons=(1, 5))).eval()
    msgs = _messages(3, 60, seed=7)  # [3 bars, FLUSH] per bar time
    bus = RedisBus.url(redis_server.url, shards=1, lease_ms=300)
    bus.reset()
    bus.send(msgs[: 4 * 40])
    first = Worker(bus, net, "v1", name="a")
    while len(bus.forecasts()) < 3 * 40:
        first.poll(block_ms=10)
    time.sleep(0.4)  # a's lease runs out
    bus.send(msgs[4 * 40 :])
    bus.end()
    Worker(bus, other, "v2", name="b").run(block_ms=10)
    got = bus.forecasts()
    assert [f["model_version"] for f in got] == ["v1"] * 120 + ["v2"] * 60
    c = stream.Pipeline(LiveState(other), "v2")  # the other network from zero WARM bars back
    list(c.run(msgs[: 4 * (40 - WARM)]))
    c.state.hidden.zero_()
    list(c.run(msgs[4 * (40 - WARM) : 4 * 40]))
    want = {(p.symbol, p.time.isoformat()): p.ret_q for p in c.run(msgs[4 * 40 :])}
    _assert_same(got[120:], want)


def test_a_swap_then_a_symbol_that_stops_trading_still_restores(
    net: RNNForecaster, redis_server: RedisServer
) -> None:
    with torch_seeded(3):
        other = RNNForecaster(RNNConfig(cell="lstm", hidden=6, layers=1, horizons=(1, 5))).eval()
    books = sources.synthetic(2, 40, seed=8)
    books["SYN0001"] = books["SYN0001"].iloc[:10]  # stops trading at bar time 10
    msgs = list(sources.messages(books, columnar=True))
    bus = RedisBus.url(redis_server.url, shards=1, lease_ms=300)
    bus.reset()
    bus.send(msgs[:30])  # 15 bar times: 10 with both symbols, 5 with one
    first = Worker(bus, net, "v1", name="a")
    while len(bus.forecasts()) < 25:
        first.poll(block_ms=10)
    first.swap(other, "v2")  # SYN0001's record must be rewritten for v2 at the next commit
    bus.send(msgs[30:50])  # bar times 15-24
    while len(bus.forecasts()) < 35:
        first.poll(block_ms=10)
    widths = {len(r) for r in bus.r.hgetall(bus._k("state", 0)).values()}
    assert len(widths) == 1  # every symbol's record rewritten for v2, not only those that traded
    time.sleep(0.4)
    bus.send(msgs[50:])
    bus.end()
    Worker(bus, other, "v2", name="b").run(block_ms=10)  # restores both symbols' records
    assert len(bus.forecasts()) == 50 and bus.counts()["bars"] == 50


def test_a_lease_lost_and_taken_again_starts_from_the_snapshot(
    net: RNNForecaster, redis_server: RedisServer
) -> None:
    msgs = _messages(2, 30, seed=9)  # [2 bars, FLUSH] per bar time
    bus = RedisBus.url(redis_server.url, shards=1, lease_ms=300)
    bus.reset()
    bus.send(msgs[:30])
    a, b = Worker(bus, net, "v", name="a"), Worker(bus, net, "v", name="b")
    while len(bus.forecasts()) < 20:
        a.poll(block_ms=10)
    time.sleep(0.4)  # a's lease runs out; b takes the shard, forecasts on, gives it up
    bus.send(msgs[30:60])
    while len(bus.forecasts()) < 40:
        b.poll(block_ms=10)
    bus.release("b", 0)
    b.runs.clear()
    bus.send(msgs[60:])
    bus.end()
    a.run(block_ms=10)  # a takes the lease again: it must not go on from its own stale state
    _assert_same(bus.forecasts(), _direct(net, msgs))


def test_a_worker_killed_mid_replay_loses_nothing_and_forecasts_nothing_twice(
    net: RNNForecaster, redis_server: RedisServer
) -> None:
    msgs = _messages(50, 80, seed=5)
    want = _direct(net, msgs)
    path, _ = _checkpoint(net)
    bus = RedisBus.url(redis_server.url, shards=6)
    bus.reset()
    half = len(msgs) // 2
    bus.send(msgs[:half])
    workers = [runner.spawn_worker(redis_server.url, path, "--name", f"w{i}") for i in range(2)]
    try:
        _wait(lambda: _holders(bus) == {b"w0", b"w1"}, "both workers to hold shards")
        bus.send(msgs[half:])
        bus.end()
        while True:  # freeze w0 at a moment it holds bars taken and not committed, then kill it
            os.kill(workers[0].pid, signal.SIGSTOP)
            left = [c["pending"] for s in range(6) for c in _consumers(bus, s) if c["name"] == "w0"]
            if sum(left) > 0:
                break
            os.kill(workers[0].pid, signal.SIGCONT)
            assert workers[1].poll() is None, "the replay ended before w0 could be caught"
            time.sleep(0.01)
        os.kill(workers[0].pid, signal.SIGKILL)
        workers[0].wait()
        assert workers[1].wait(timeout=120) == 0
    finally:
        for w in workers:
            w.kill()
    _assert_same(bus.forecasts(), want)
    assert bus.counts()["bars"] == 50 * 80 and not bus.dead_letters()


def test_a_redis_restart_mid_stream_loses_nothing(
    net: RNNForecaster, redis_server: RedisServer
) -> None:
    msgs = _messages(40, 120, seed=6)
    want = _direct(net, msgs)
    bus = RedisBus.url(redis_server.url, shards=4)
    bus.reset()
    half = len(msgs) // 2
    bus.send(msgs[:half])
    worker = Worker(RedisBus.url(redis_server.url), net, "v", name="w")
    thread = threading.Thread(target=worker.run, kwargs={"block_ms": 20}, daemon=True)
    thread.start()
    _wait(lambda: bus.counts().get("bars", 0) > 200, "the first forecasts")
    redis_server.restart()  # while the worker is in the middle of the first half
    bus.send(msgs[half:])
    bus.end()
    thread.join(timeout=120)
    assert not thread.is_alive()
    _assert_same(bus.forecasts(), want)


def test_a_connection_lost_while_watching_a_lease_is_the_bus_down(
    redis_server: RedisServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    bus = RedisBus.url(redis_server.url, shards=1)
    bus.reset()
    assert bus.acquire("w", set())[0] == [0]
    commit = Commit(0, ["0-1"], [], [], {}, "v", ended=False, counts={})
    with redis.Redis.from_url(redis_server.url) as killer:
        # lost after WATCH (before the lease is read) and after MULTI (before EXEC)
        for step in ("watch", "multi"):
            original = getattr(redis.client.Pipeline, step)

            def then_lose_the_connection(pipe: Any, *args: Any, _do: Any = original) -> Any:
                out = _do(pipe, *args)
                pipe.connection.send_command("CLIENT", "ID")  # its own connection's id
                killer.client_kill_filter(_id=pipe.connection.read_response())
                return out

            monkeypatch.setattr(redis.client.Pipeline, step, then_lose_the_connection)
            with pytest.raises(BusDown, match="Redis is not reachable"):
                bus.commit("w", commit)  # redis-py says WatchError; the worker hears "bus down"
            monkeypatch.undo()
    assert bus.commit("w", commit) and bus.r.hget(bus._k("meta", 0), "last_id") == b"0-1"


def test_stream_command_over_redis_with_two_workers(
    net: RNNForecaster, redis_server: RedisServer, tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    path, version = _checkpoint(net)
    out = tmp_path / "f.jsonl"
    args = ["markets", "stream", "--source", "synthetic:10", "--bars", "30", "--model", str(path),
            "--bus", redis_server.url, "--workers", "2", "--shards", "4", "--json"]  # fmt: skip
    assert main([*args, "--out", str(out)]) == 0
    got = json.loads(capsys.readouterr().out)
    assert got["bars"] == got["forecasts"] == 300 and got["model_version"] == version
    assert got["latency_ms_p99"] >= got["latency_ms_p50"] > 0
    assert len(out.read_text().splitlines()) == 300
    for bad, says in [("redis://", "redis://HOST:PORT"), ("http://x:1", "redis://HOST:PORT")]:
        assert main(["markets", "stream", "--bus", bad]) == 2
        assert says in capsys.readouterr().err
    assert main(["markets", "stream", "--workers", "2"]) == 2
    assert "--workers needs --bus" in capsys.readouterr().err


def _wait(done: Any, what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if done():
                return
        except redis.ConnectionError:
            pass
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def _holders(bus: RedisBus) -> set[bytes]:
    return {bus.r.get(bus._k("lease", s)) for s in range(bus.shards)} - {None}


def _consumers(bus: RedisBus, shard: int) -> list[dict[str, Any]]:
    return [{k: v.decode() if isinstance(v, bytes) else v for k, v in c.items()}
            for c in bus.r.xinfo_consumers(bus._k("bars", shard), "forecasters")]  # fmt: skip
