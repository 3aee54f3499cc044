"""rtystrat: backtest pivot/SMA/RSI futures setups on backtrader with honest fills.

The public API is listed in ``__all__``. Names resolve lazily (PEP 562), so ``import rtystrat`` stays
cheap and side-effect free: backtrader is loaded only when something that needs it is used.
"""

from __future__ import annotations

import importlib
from typing import Any

from rtystrat.errors import DataError, ParameterError, RtystratError, UnknownStrategyError

__version__ = "0.1.0"

# public name -> module that defines it
_EXPORTS: dict[str, str] = {
    # data
    "load_bars": "rtystrat.data.bars",
    "inspect_bars": "rtystrat.data.bars",
    "repair_report": "rtystrat.data.bars",
    "resample_bars": "rtystrat.data.bars",
    "session_dates": "rtystrat.data.bars",
    "period_keys": "rtystrat.data.bars",
    "bar_interval": "rtystrat.data.bars",
    "is_intraday": "rtystrat.data.bars",
    "load_sample": "rtystrat.data.sample",
    # contracts
    "ContractSpec": "rtystrat.data.contracts",
    "CONTRACTS": "rtystrat.data.contracts",
    "contract_spec": "rtystrat.data.contracts",
    "get_contract": "rtystrat.data.contracts",
    "round_to_tick": "rtystrat.data.contracts",
    "expiry_date": "rtystrat.data.contracts",
    "roll_date": "rtystrat.data.contracts",
    "contract_code": "rtystrat.data.contracts",
    "ContinuousSeries": "rtystrat.data.continuous",
    "build_continuous": "rtystrat.data.continuous",
    "load_contract_files": "rtystrat.data.continuous",
    # levels and indicators
    "pivot_points": "rtystrat.signals.levels",
    "period_levels": "rtystrat.signals.levels",
    "round_number_levels": "rtystrat.signals.levels",
    "PIVOT_METHODS": "rtystrat.signals.levels",
    "LEVEL_NAMES": "rtystrat.signals.levels",
    "sma": "rtystrat.signals.ta",
    "rsi": "rtystrat.signals.ta",
    "atr": "rtystrat.signals.ta",
    "indicator_frame": "rtystrat.signals.features",
    "levels_table": "rtystrat.signals.features",
    "make_feed": "rtystrat.execution.feeds",
    # execution
    "RunConfig": "rtystrat.execution.config",
    "SetupStrategy": "rtystrat.execution.strategy",
    "run_backtest": "rtystrat.execution.engine",
    "TRADE_COLUMNS": "rtystrat.execution.tradelog",
    "EXIT_REASONS": "rtystrat.execution.fills",
    # setups and strategies
    "backtest": "rtystrat.api",
    "replay_article": "rtystrat.replay",
    "bullish_reversal": "rtystrat.signals.setups",
    "bearish_breakdown": "rtystrat.signals.setups",
    "BULLISH_REVERSAL_PARAMETERS": "rtystrat.signals.setups",
    "BEARISH_BREAKDOWN_PARAMETERS": "rtystrat.signals.setups",
    "Offset": "rtystrat.signals.offsets",
    "parse_offset": "rtystrat.signals.offsets",
    "Parameter": "rtystrat.signals.parameters",
    "Parameters": "rtystrat.signals.parameters",
    "discover": "rtystrat.registry",
    "get_strategy": "rtystrat.registry",
    # analysis
    "BacktestResult": "rtystrat.analysis.results",
    "compute_stats": "rtystrat.analysis.metrics",
    "stats_by": "rtystrat.analysis.metrics",
    "stats_by_year": "rtystrat.analysis.metrics",
    "whole_trades": "rtystrat.analysis.metrics",
    "drawdown_table": "rtystrat.analysis.metrics",
    "buy_and_hold": "rtystrat.analysis.metrics",
    "estimate_bars_per_year": "rtystrat.analysis.metrics",
    "monte_carlo": "rtystrat.analysis.montecarlo",
    "MonteCarloResult": "rtystrat.analysis.montecarlo",
    # tuning
    "ParameterSpace": "rtystrat.tuning.space",
    "parse_grid": "rtystrat.tuning.space",
    "sweep": "rtystrat.tuning.sweep",
    "rank": "rtystrat.tuning.sweep",
    "best_parameters": "rtystrat.tuning.sweep",
    "row_parameters": "rtystrat.tuning.sweep",
    "walk_forward": "rtystrat.tuning.walkforward",
    "WalkForwardResult": "rtystrat.tuning.walkforward",
    "ResultStore": "rtystrat.tuning.store",
    "diagnose": "rtystrat.tuning.diagnostics",
    "Diagnostics": "rtystrat.tuning.diagnostics",
    # plots and reports
    "plot_equity": "rtystrat.plotting",
    "plot_price": "rtystrat.plotting",
    "plot_heatmap": "rtystrat.plotting",
    "plot_walkforward": "rtystrat.plotting",
    "plot_overfitting": "rtystrat.plotting",
    "plot_montecarlo": "rtystrat.plotting",
    "interactive_chart": "rtystrat.plotting.interactive",
    "render_html": "rtystrat.plotting.report",
    "render_sweep_html": "rtystrat.plotting.sweep_report",
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
