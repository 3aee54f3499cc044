"""rtystrat: backtest pivot/SMA/RSI futures setups on backtrader with honest fills.

The public API is re-exported here; everything not in ``__all__`` is internal.
"""

from __future__ import annotations

from rtystrat.errors import DataError, ParameterError, RtystratError, UnknownStrategyError

__version__ = "0.1.0"

__all__ = [
    "DataError",
    "ParameterError",
    "RtystratError",
    "UnknownStrategyError",
    "__version__",
]
