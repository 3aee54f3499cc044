"""Strategy recipes found by name (``rtystrat backtest bullish_reversal``): one short file per setup.

Each recipe is a named :class:`rtystrat.execution.strategy.SetupStrategy` subclass over a pure setup function
in :mod:`rtystrat.signals.setups`, with the analysis's defaults and small smoke-test overrides. This folder is
not part of the installed wheel; the command line and :func:`rtystrat.registry.discover` find it beside the
package or in ``./strategies``.
"""

from __future__ import annotations

from strategies.bearish_breakdown import BearishBreakdown
from strategies.bullish_reversal import BullishReversal
from strategies.r2_fade import R2Fade, R2FadeLines

__all__ = ["BearishBreakdown", "BullishReversal", "R2Fade", "R2FadeLines"]
