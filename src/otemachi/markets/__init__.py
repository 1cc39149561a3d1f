"""otemachi.markets: Probabilistic multi-horizon market forecasts from streaming bars."""
