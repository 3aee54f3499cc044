"""rtystrat: backtest pivot/SMA/RSI futures setups on backtrader with honest fills.

The public API is listed in ``__all__``. Names resolve lazily (PEP 562), so ``import rtystrat`` stays
cheap and side-effect free: backtrader is loaded only when something that needs it is used.
"""

from __future__ import annotations

import importlib
from typing import Any

from rtystrat.errors import DataError, ParameterError, RtystratError, UnknownStrategyError

__version__ = "0.1.0"

# public name -> module that defines it. The sweep function stays in `rtystrat.sweep`: exporting it here
# would shadow the submodule of the same name (`from rtystrat import sweep` must give one thing).
_EXPORTS: dict[str, str] = {
    # data
    "load_bars": "rtystrat.bars",
    "inspect_bars": "rtystrat.bars",
    "repair_report": "rtystrat.bars",
    "resample_bars": "rtystrat.bars",
    "session_dates": "rtystrat.bars",
    "period_keys": "rtystrat.bars",
    "bar_interval": "rtystrat.bars",
    "is_intraday": "rtystrat.bars",
    "load_sample": "rtystrat.sample",
    # contracts
    "ContractSpec": "rtystrat.contracts",
    "CONTRACTS": "rtystrat.contracts",
    "get_contract": "rtystrat.contracts",
    "round_to_tick": "rtystrat.contracts",
    "expiry_date": "rtystrat.contracts",
    "roll_date": "rtystrat.contracts",
    "contract_code": "rtystrat.contracts",
    "ContinuousSeries": "rtystrat.continuous",
    "build_continuous": "rtystrat.continuous",
    "load_contract_files": "rtystrat.continuous",
    # levels and indicators
    "pivot_points": "rtystrat.levels",
    "period_levels": "rtystrat.levels",
    "round_number_levels": "rtystrat.levels",
    "PIVOT_METHODS": "rtystrat.levels",
    "LEVEL_NAMES": "rtystrat.levels",
    "sma": "rtystrat.ta",
    "rsi": "rtystrat.ta",
    "atr": "rtystrat.ta",
    "indicator_frame": "rtystrat.features",
    "levels_table": "rtystrat.features",
    "make_feed": "rtystrat.feeds",
    # execution
    "RunConfig": "rtystrat.config",
    "SetupStrategy": "rtystrat.strategy",
    "run_backtest": "rtystrat.engine",
    "TRADE_COLUMNS": "rtystrat.tradelog",
    "EXIT_REASONS": "rtystrat.fills",
    # setups and strategies
    "backtest": "rtystrat.api",
    "replay_article": "rtystrat.replay",
    "bullish_reversal": "rtystrat.setups",
    "bearish_breakdown": "rtystrat.setups",
    "BULLISH_REVERSAL_PARAMETERS": "rtystrat.setups",
    "BEARISH_BREAKDOWN_PARAMETERS": "rtystrat.setups",
    "Offset": "rtystrat.offsets",
    "parse_offset": "rtystrat.offsets",
    "Parameter": "rtystrat.parameters",
    "Parameters": "rtystrat.parameters",
    "discover": "rtystrat.registry",
    "get_strategy": "rtystrat.registry",
    # analysis
    "BacktestResult": "rtystrat.results",
    "compute_stats": "rtystrat.metrics",
    "stats_by": "rtystrat.metrics",
    "stats_by_year": "rtystrat.metrics",
    "drawdown_table": "rtystrat.metrics",
    "buy_and_hold": "rtystrat.metrics",
    "estimate_bars_per_year": "rtystrat.metrics",
    "monte_carlo": "rtystrat.montecarlo",
    "MonteCarloResult": "rtystrat.montecarlo",
    # tuning
    "ParameterSpace": "rtystrat.space",
    "parse_grid": "rtystrat.space",
    "rank": "rtystrat.sweep",
    "best_parameters": "rtystrat.sweep",
    "row_parameters": "rtystrat.sweep",
    "walk_forward": "rtystrat.walkforward",
    "WalkForwardResult": "rtystrat.walkforward",
    "ResultStore": "rtystrat.store",
    # plots and reports
    "plot_equity": "rtystrat.plotting",
    "plot_price": "rtystrat.plotting",
    "plot_heatmap": "rtystrat.plotting",
    "plot_walkforward": "rtystrat.plotting",
    "plot_montecarlo": "rtystrat.plotting",
    "render_html": "rtystrat.report",
}

__all__ = [
    "DataError",
    "ParameterError",
    "RtystratError",
    "UnknownStrategyError",
    "__version__",
    *_EXPORTS,
]


def __getattr__(name: str) -> Any:
    """Import the module that defines `name` on first use."""
    try:
        module = _EXPORTS[name]
    except KeyError:
        raise AttributeError(f"module 'rtystrat' has no attribute {name!r}") from None
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
