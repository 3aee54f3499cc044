"""The one-call Python API: ``rtystrat.backtest("bullish_reversal", data, stop_offset="20pt")``.

Strategies are found by name (:mod:`rtystrat.registry`), parameters are validated against each strategy's
declared parameters before anything runs, and the run goes through
:func:`rtystrat.execution.engine.run_backtest`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from rtystrat.analysis.results import BacktestResult
from rtystrat.data.bars import load_bars
from rtystrat.data.sample import load_sample
from rtystrat.errors import ParameterError, suggest
from rtystrat.execution.config import RunConfig
from rtystrat.execution.engine import run_backtest
from rtystrat.registry import resolve_strategies

__all__ = ["backtest", "load_data", "strategy_parameters"]


def backtest(
    strategy: str | type | Sequence[str | type],
    data: pd.DataFrame | str | Path | None = None,
    *,
    config: RunConfig | None = None,
    strategy_path: Iterable[str | Path] = (),
    repair: str | None = None,
    intraday: pd.DataFrame | str | Path | None = None,
    progress: bool = False,
    **params: Any,
) -> BacktestResult:
    """Run one or several strategies in one account and return the result.

    Parameters
    ----------
    strategy : str, class, or a list of them
        A registered name (``"bullish_reversal"``, ``"bearish_breakdown"``), ``"both"`` for the two setups
        together, a ``"module:Class"`` reference, a :class:`~rtystrat.execution.strategy.SetupStrategy`
        subclass, or a list of these (all run in one account, one position per strategy).
    data : DataFrame, str or Path, optional
        Bars (a canonical frame or a CSV/Parquet file); None runs on the shipped daily sample.
    config : RunConfig, optional
        Contract, cash, fill policy, costs and sizing (default :class:`RunConfig`).
    strategy_path : iterable of str or Path
        Extra folders to search for strategies (see :mod:`rtystrat.registry`).
    repair : str, optional
        Explicit data repairs when `data` is a file (``"clip,drop_weekend"``; see
        :func:`rtystrat.data.bars.load_bars`).
    intraday : DataFrame, str or Path, optional
        Lower-timeframe bars of the same market for ``config.fill_policy="intraday"``.
    progress : bool
        Show a progress bar on stderr when the run takes more than two seconds.
    **params
        Strategy parameters. A plain name applies to every selected strategy that declares it
        (``max_hold=5``); ``**{"bearish_breakdown.max_hold": 20}`` targets one.

    Returns
    -------
    BacktestResult

    Raises
    ------
    UnknownStrategyError, ParameterError
        For unknown strategies or parameters and impossible values, before any run starts.

    Examples
    --------
    >>> result = backtest("both", stop_offset="20pt")  # doctest: +SKIP
    >>> print(result.summary())  # doctest: +SKIP
    """
    classes = resolve_strategies(strategy, strategy_path)
    setup_params = strategy_parameters(classes, params)
    bars = load_data(data, repair=repair)
    # The engine takes a single strategy's parameters flat, several strategies' by name.
    run_params = setup_params[classes[0].name] if len(classes) == 1 else setup_params
    return run_backtest(
        classes, bars, config=config or RunConfig(), intraday=intraday, params=run_params, progress=progress
    )


def strategy_parameters(classes: Sequence[type], params: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Return ``{strategy name: validated parameters}`` (defaults filled in) from the given overrides.

    A plain name goes to every strategy that declares it; ``"strategy.name"`` goes to that strategy only.

    Raises
    ------
    ParameterError
        For a parameter no selected strategy declares (with "did you mean" and the valid names), a prefix
        naming a strategy not selected, or an invalid value.
    """
    by_name = {cls.name: cls for cls in classes}
    overrides: dict[str, dict[str, Any]] = {name: {} for name in by_name}
    for key, value in params.items():
        owner, dot, name = key.rpartition(".")
        if dot:
            if owner not in by_name:
                raise ParameterError(
                    f"parameter {key!r}: strategy {owner!r} is not selected{suggest(owner, by_name)}; "
                    f"selected: {', '.join(by_name)}"
                )
            overrides[owner][name] = value
            continue
        takers = [cls.name for cls in classes if name in cls.parameters]
        if not takers:
            valid = sorted({p for cls in classes for p in cls.parameters})
            raise ParameterError(
                f"unknown parameter {name!r}{suggest(name, valid)} for {', '.join(by_name)}; "
                f"valid: {', '.join(valid) or 'none'}"
            )
        for taker in takers:
            overrides[taker][name] = value
    return {name: by_name[name].parameters.validate(values, owner=name) for name, values in overrides.items()}


def load_data(
    data: pd.DataFrame | str | Path | None, *, repair: str | None = None, source_tz: str = "UTC"
) -> pd.DataFrame:
    """Return canonical bars from a frame or a file, or the shipped daily sample when `data` is None.

    A frame is validated by :func:`rtystrat.data.bars.load_bars`; columns beyond the bars (an indicator
    frame's levels and indicators) are kept, so a crafted frame with known levels trades on exactly those
    levels. `repair` and `source_tz` (the zone of intraday timestamps written without a UTC offset) are
    passed to :func:`rtystrat.data.bars.load_bars`.
    """
    if data is None:
        return load_sample("daily")
    bars = load_bars(data, repair=repair, source_tz=source_tz)
    if isinstance(data, pd.DataFrame):
        # An indicator frame keeps its columns (levels, SMAs, ...): load_bars validates only the bars.
        extra = [column for column in data.columns if column not in bars.columns and column != "time"]
        if extra:
            bars = bars.join(
                data[extra].set_axis(pd.DatetimeIndex(data.index, name=bars.index.name)), how="left"
            )
        if data.attrs.get("source"):
            bars.attrs["source"] = data.attrs["source"]  # keep the file name of frames loaded earlier
    return bars
