"""The live forecasts over HTTP and a WebSocket, from a stream on a real redis-server."""

import threading

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from otemachi.core.seeding import torch_seeded
from otemachi.markets import sources
from otemachi.markets.model import RNNConfig, RNNForecaster
from otemachi.markets.redis_bus import RedisBus
from otemachi.markets.worker import Worker
from otemachi.server import Settings, create_app
from tests.services import RedisServer

pytestmark = pytest.mark.redis


def test_latest_forecast_and_the_websocket_follow_the_stream(redis_server: RedisServer) -> None:
    client = TestClient(create_app(Settings(markets_bus=redis_server.url)))
    r = client.get("/api/markets/forecast/SYN0001")
    assert r.status_code == 404 and "no stream has been started" in r.json()["detail"]
    with torch_seeded(0):
        net = RNNForecaster(RNNConfig(hidden=8, layers=1, horizons=(1, 5))).eval()
    books = sources.synthetic(3, 30, seed=2)
    msgs = list(sources.messages(books, columnar=True))
    bus = RedisBus.url(redis_server.url, shards=2)
    bus.reset()
    worker = Worker(bus, net, "v1", name="w")

    def forecast_all(upto: int) -> None:
        while len(bus.forecasts()) < upto:
            worker.poll(block_ms=20)

    bus.send(msgs[:40])  # 20 bar times
    forecast_all(60)
    got = client.get("/api/markets/forecast/SYN0001").json()
    assert got["symbol"] == "SYN0001" and got["model_version"] == "v1"
    assert pd.Timestamp(got["time"]) == books["SYN0001"].index[19]
    assert len(got["p_up"]) == 2 and len(got["ret_q"][0]) == 5
    assert client.get("/api/markets/forecast/NOPE").status_code == 404

    with client.websocket_connect("/api/markets/ws?symbols=SYN0000,SYN0002") as ws:
        bus.send(msgs[40:])
        thread = threading.Thread(target=forecast_all, args=(90,))
        thread.start()
        pushed = [ws.receive_json() for _ in range(20)]
        thread.join(timeout=60)
    assert {p["symbol"] for p in pushed} == {"SYN0000", "SYN0002"}
    for symbol in ("SYN0000", "SYN0002"):
        times = [pd.Timestamp(p["time"]) for p in pushed if p["symbol"] == symbol]
        assert times == list(books[symbol].index[20:])  # every new bar, in order, once

    with client.websocket_connect("/api/markets/ws") as ws:
        assert "symbols" in ws.receive_json()["detail"]
