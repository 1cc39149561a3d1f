"""The registry of systems: name -> where its demo lives and what it does."""

import importlib
from collections.abc import Callable
from dataclasses import dataclass

from otemachi.core.report import Report


@dataclass(frozen=True)
class System:
    """One otemachi system as the root CLI and server see it."""

    name: str
    summary: str
    demo_path: str | None  # "module:function", imported only when the demo runs

    def demo(self) -> Callable[[Report], None] | None:
        """Import and return the system's ``demo(report)``, or None if it has none yet."""
        if self.demo_path is None:
            return None
        module, func = self.demo_path.split(":")
        demo: Callable[[Report], None] = getattr(importlib.import_module(module), func)
        return demo


SYSTEMS: dict[str, System] = {
    "markets": System(
        "markets",
        "Probabilistic multi-horizon forecasts (P(up), return quantiles, high/low range).",
        "otemachi.markets.demo:demo",
    ),
    "picking": System(
        "picking",
        "A simulated arm picks the object a spoken or typed instruction means.",
        "otemachi.picking.demo:demo",
    ),
    "signatures": System(
        "signatures",
        "Genuine-or-forged decisions from 1-5 reference signatures per person.",
        "otemachi.signatures.demo:demo",
    ),
}
