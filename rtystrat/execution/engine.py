"""``run_backtest``: the one place that builds a backtrader ``Cerebro``.

One run is one account: every strategy passed trades the same data through one :class:`FuturesBroker`
(cash, margin and equity are shared; the trade log's ``setup`` column tells the strategies apart).
"""

from __future__ import annotations

import dataclasses
import logging
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import backtrader as bt
import numpy as np
import pandas as pd
from tqdm import tqdm

from rtystrat.analysis import metrics
from rtystrat.analysis.results import BacktestResult
from rtystrat.data.bars import bar_interval, is_intraday, load_bars, session_dates
from rtystrat.data.grid import GRID_TOLERANCE_TICKS, grid_warning, snap_to_grid
from rtystrat.errors import DataError, ParameterError, suggest
from rtystrat.execution.analyzers import TradeRecorder
from rtystrat.execution.broker import FuturesBroker, futures_commission
from rtystrat.execution.config import RunConfig
from rtystrat.execution.feeds import make_feed
from rtystrat.execution.strategy import SetupStrategy
from rtystrat.signals.columns import tick_size_of
from rtystrat.signals.features import indicator_frame
from rtystrat.signals.offsets import parse_offset

__all__ = [
    "SUB_BAR_CLOSE_TICKS",
    "SUB_BAR_OPEN_TICKS",
    "SubBarCheck",
    "check_sub_bars",
    "indicator_frame_for",
    "run_backtest",
    "sub_bars_for",
]

_log = logging.getLogger(__name__)

#: Seconds a run goes before its progress bar appears: a short run prints nothing.
PROGRESS_DELAY = 2.0

SubBars = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]
# Contracts on the Russell 2000 index, whose points the setups' points-based defaults were sized for.
_RUSSELL = ("RTY", "M2K")

#: Sub-bars resolve their bar only when their first open is within this many ticks of the bar's open (the
#: session's first trade is the same trade in both files; two ticks allow for a vendor's rounding).
SUB_BAR_OPEN_TICKS = 2.0
#: ... and their last close within this many ticks of the bar's close. Vendors' daily closes are the 15:00 CT
#: settlement while the session trades to 16:00, so the two differ by up to 56 ticks on 95% of the real RTY
#: sessions; a truncated file or another contract month is told apart by the high and low, which must be
#: the bar's (the same tick).
SUB_BAR_CLOSE_TICKS = 100.0


def run_backtest(
    strategies: type[SetupStrategy] | Sequence[type[SetupStrategy]],
    data: pd.DataFrame | str | Path,
    *,
    config: RunConfig | None = None,
    intraday: pd.DataFrame | str | Path | None = None,
    params: Mapping[str, Any] | None = None,
    progress: bool = False,
) -> BacktestResult:
    """Backtest one or several setup strategies on one account and return the result.

    Parameters
    ----------
    strategies : SetupStrategy subclass or a sequence of them
        Strategies trading together (one position each, one shared account).
    data : DataFrame or path
        Bars (:func:`rtystrat.data.bars.load_bars` reads a path) or an indicator frame. When a strategy
        declares ``indicators`` (not None) and the frame has no ``P`` column, the columns are added by
        :func:`rtystrat.signals.features.indicator_frame` with those keyword arguments.
    config : RunConfig, optional
        Contract, cash, fill policy, costs, sizing, window (default ``RunConfig()``).
    intraday : DataFrame or path, optional
        Lower-timeframe bars of the same market for ``fill_policy="intraday"``.
    params : mapping, optional
        Setup parameters: ``{name: value}`` for one strategy; ``{strategy_name: {name: value}}`` for several.
    progress : bool
        Show a progress bar (tqdm, on stderr) over the bars of the run once it has taken two seconds; short
        runs print nothing.

    Returns
    -------
    BacktestResult
        Stats, trade log (:data:`rtystrat.execution.tradelog.TRADE_COLUMNS`), equity per bar, parameters and
        settings. Entries rejected for margin or skipped for size 0 are counted in the stats (``"# Rejected
        Entries"``, ``"# Skipped Entries"``) and logged.
    """
    config = RunConfig() if config is None else config
    classes = _strategy_classes(strategies)
    setup_params = _split_params(classes, params)
    _note_points_offsets(classes, setup_params, config.spec.symbol)
    frame = indicator_frame_for(classes, data, config)
    sub_bars = sub_bars_for(frame, intraday) if config.fill_policy == "intraday" else None
    if config.fill_policy == "intraday" and sub_bars is None:
        raise ParameterError("fill_policy 'intraday' needs intraday bars (intraday=...)")
    if sub_bars is not None:
        sub_bars, check = check_sub_bars(frame, sub_bars)
        if check.resolved < len(frame):
            _log.warning("%s", check.message())

    ran = _run(classes, frame, config, sub_bars, setup_params, progress)
    logs = [strategy.analyzers.trades.get_analysis() for strategy in ran]
    trades = pd.concat(logs, ignore_index=True) if len(logs) > 1 else logs[0]
    trades = trades.sort_values(["entry_time", "exit_time"], kind="stable", ignore_index=True)
    values = ran[0].broker.values  # the account's, shared by every strategy of the run
    equity = pd.Series(values, index=frame.index[: len(values)], name="equity", dtype=np.float64)
    for strategy in ran:
        if strategy.plans is not None and not np.any(strategy.plans.direction):
            # 0 trades with no reason given reads like a verdict on the setup; it is often the parameters
            _log.warning(
                "%s: no bar of the %s traded met the setup's conditions (levels not yet available, "
                "filters, or a target/stop on the wrong side of the entry for every signal)",
                strategy.name, f"{len(frame):,}",
            )  # fmt: skip
    events = [event for strategy in ran for event in strategy.events]
    if events:
        first = events[0]
        _log.warning(
            "%d entries not traded (first: %s %s %s, %s)",
            len(events), first["time"], first["setup"], first["event"], first["detail"],
        )  # fmt: skip
    benchmark = metrics.buy_and_hold(
        frame["close"], multiplier=config.spec.multiplier, contracts=config.contracts, cash=config.cash
    )
    result = BacktestResult.from_run(
        trades,
        equity,
        params=setup_params if len(classes) > 1 else setup_params[classes[0].name],
        config=config.to_dict(),
        benchmark=benchmark,
    )
    counts = pd.Series(
        {
            "# Rejected Entries": float(sum(event["event"] == "rejected" for event in events)),
            "# Skipped Entries": float(sum(event["event"] == "skipped" for event in events)),
        }
    )
    return dataclasses.replace(result, stats=pd.concat([result.stats, counts]))


def _note_points_offsets(
    classes: list[type[SetupStrategy]], setup_params: Mapping[str, Mapping[str, Any]], symbol: str
) -> None:
    """Say once that offsets in points keep RTY's size on another market, and suggest % or ATR units."""
    if symbol in _RUSSELL:
        return
    in_points = []
    for cls in classes:
        declared = cls.parameters if isinstance(cls.parameters, Mapping) else {}
        for name, value in setup_params[cls.name].items():
            if getattr(declared.get(name), "kind", None) != "offset":
                continue
            try:
                offset = parse_offset(value, name=name)
            except ParameterError:
                continue  # a word the offset also accepts ("pivot"), not a distance
            if offset.unit == "pt" and not offset.is_zero:
                in_points.append(f"{name}={offset}")
    if in_points:
        _log.warning(
            "%s: offsets in points (%s) are sized for RTY, where a 60-point stop is about 1.2 ATR (on ES "
            "about 0.6); give them in %% or atr (e.g. stop_offset=1.2atr) to carry them to another market",
            symbol, ", ".join(in_points),
        )  # fmt: skip


def _run(
    classes: list[type[SetupStrategy]],
    frame: pd.DataFrame,
    config: RunConfig,
    sub_bars: SubBars | None,
    setup_params: Mapping[str, dict[str, Any]],
    progress: bool = False,
) -> list[SetupStrategy]:
    """Build the Cerebro of one account, run it, return the strategies (their analyzers hold the trade
    records, their shared broker the account value per bar)."""
    # no default observers: they cost per-bar work and record nothing the analyzers need
    cerebro = bt.Cerebro(stdstats=False, runonce=config.runonce, preload=True, maxcpus=1)
    name = "+".join(cls.name for cls in classes)
    with tqdm(
        total=len(frame), disable=not progress, delay=PROGRESS_DELAY, unit="bar", desc=name, file=sys.stderr
    ) as bar:
        broker = FuturesBroker(
            fill_settings=config.fill_settings(),
            contract=config.spec.symbol,
            progress=bar if progress else None,
        )
        broker.setcash(config.cash)
        broker.addcommissioninfo(futures_commission(config.spec))
        cerebro.broker = broker
        # a strategy trading its plans reads them from the frame: the feed carries only the lines code reads
        cerebro.adddata(make_feed(frame, lines=_lines_read(classes)))
        for cls in classes:
            cerebro.addstrategy(cls, setup_params=setup_params[cls.name], frame=frame, intraday=sub_bars)
        cerebro.addanalyzer(TradeRecorder, _name="trades")
        return cerebro.run()


def _lines_read(classes: list[type[SetupStrategy]]) -> list[str] | None:
    """Return the indicator columns any of `classes` reads as feed lines (None: every column)."""
    wanted = [cls.lines_read() for cls in classes]
    if any(lines is None for lines in wanted):
        return None
    return sorted({line for lines in wanted for line in lines})


def _strategy_classes(
    strategies: type[SetupStrategy] | Sequence[type[SetupStrategy]],
) -> list[type[SetupStrategy]]:
    classes = [strategies] if isinstance(strategies, type | str) else list(strategies)
    if not classes:
        raise ParameterError("run_backtest needs at least one strategy")
    for cls in classes:
        if isinstance(cls, str):
            # names are resolved one layer up (rtystrat.registry), which the engine does not import
            raise ParameterError(
                f"run_backtest takes SetupStrategy classes, got the name {cls!r}; "
                f"rtystrat.backtest({cls!r}, data) finds strategies by name"
            )
        if not (isinstance(cls, type) and issubclass(cls, SetupStrategy)):
            raise ParameterError(f"{cls!r} is not a SetupStrategy subclass")
    names = [cls.name for cls in classes]
    duplicated = sorted({name for name in names if names.count(name) > 1})
    if duplicated:
        raise ParameterError(f"strategy name {duplicated[0]!r} appears twice in one run")
    return classes


def _split_params(
    classes: list[type[SetupStrategy]], params: Mapping[str, Any] | None
) -> dict[str, dict[str, Any]]:
    """Return each strategy's validated setup parameters (defaults filled in when it declares them)."""
    names = [cls.name for cls in classes]
    if len(classes) == 1:
        given = {names[0]: dict(params or {})}
    else:
        given = {name: dict((params or {}).get(name) or {}) for name in names}
        for key in params or {}:
            if key not in names:
                raise ParameterError(
                    f"params: {key!r} is not a strategy of this run{suggest(str(key), names)}; "
                    f"with several strategies give {{strategy_name: {{parameter: value}}}}"
                )
    resolved = {}
    for cls in classes:
        validate = getattr(cls.parameters, "validate", None)
        resolved[cls.name] = validate(given[cls.name], owner=cls.name) if validate else given[cls.name]
    return resolved


def indicator_frame_for(
    strategies: type[SetupStrategy] | Sequence[type[SetupStrategy]],
    data: pd.DataFrame | str | Path,
    config: RunConfig,
) -> pd.DataFrame:
    """Return the frame `strategies` trade under `config`: loaded, with indicator columns, cut to the window.

    The indicator columns (:func:`rtystrat.signals.features.indicator_frame` with the strategies'
    ``indicators`` and the config's ``timeframe``) are computed on all of `data` before the cut, so they are
    warm at the window's start; ``attrs["tick_size"]`` is the contract's tick. The fast kernel reads this
    same frame, so both paths see the same numbers.
    """
    classes = _strategy_classes(strategies)
    frame = _on_grid(data if isinstance(data, pd.DataFrame) else load_bars(data), config)
    wanted = [cls.indicators for cls in classes if cls.indicators is not None]
    if wanted and "P" not in frame.columns:
        merged = {key: value for spec in wanted for key, value in spec.items()}
        if config.timeframe is not None:
            merged["timeframe"] = config.timeframe
        frame = indicator_frame(frame, **merged)
    frame = frame.copy(deep=False)
    frame.attrs = {**frame.attrs, "tick_size": config.spec.tick_size}
    whole = frame.index
    if config.start is not None or config.end is not None:
        frame = frame.loc[slice(*_window(config, pd.DatetimeIndex(whole)))]
    if len(frame) < 2:
        source = frame.attrs.get("source", "<DataFrame>")
        count = "no bars" if len(frame) == 0 else "only 1 bar"
        window = f"from {_day(config.start) or 'the start'} to {_day(config.end) or 'the end'}"
        covers = f"{_day(whole[0])} .. {_day(whole[-1])}" if len(whole) else "nothing"
        raise DataError(f"{source}: {count} to trade {window}; the data covers {covers} (2 bars are needed)")
    return frame


def _on_grid(bars: pd.DataFrame, config: RunConfig) -> pd.DataFrame:
    """Return `bars` with storage noise snapped onto the contract's tick grid; warn when they do not fit it.

    Runs once per frame and contract (``attrs["tick_grid"]`` marks it), before any level is computed, so a
    level is computed from the prices that traded (:mod:`rtystrat.data.grid`).
    """
    tick = config.spec.tick_size
    if bars.attrs.get("tick_grid") == tick:
        return bars
    source = bars.attrs.get("source", "<DataFrame>")
    warning = grid_warning(bars, config.spec)
    if warning:
        _log.warning("%s: %s", source, warning)
    snapped = snap_to_grid(bars, tick)
    if snapped.attrs["snapped"]:
        _log.info(
            "%s: %s prices within %s tick of %s's grid set on it",
            source, f"{snapped.attrs['snapped']:,}", GRID_TOLERANCE_TICKS, config.spec.symbol,
        )  # fmt: skip
    snapped.attrs["tick_grid"] = tick
    return snapped


def _window(config: RunConfig, index: pd.DatetimeIndex) -> tuple[pd.Timestamp | None, pd.Timestamp | None]:
    """Return the run's ``(start, end)`` as bounds comparable with `index`, the end date inclusive.

    A bound without a zone is a wall-clock time in the index's zone; one with a UTC offset is an instant
    (on tz-naive daily bars, its written date). An end at midnight means that whole day, so intraday bars
    of the end date are traded.
    """

    def local(value: str | None) -> pd.Timestamp | None:
        if value is None:
            return None
        stamp = pd.Timestamp(value)
        if index.tz is None:
            return stamp.tz_localize(None) if stamp.tz is not None else stamp
        return stamp.tz_localize(index.tz) if stamp.tz is None else stamp.tz_convert(index.tz)

    start, end = local(config.start), local(config.end)
    if end is not None and end == end.normalize():
        end = end + pd.DateOffset(days=1) - pd.Timedelta(1, unit="ns")
    return start, end


def _day(when: str | pd.Timestamp | None) -> str | None:
    """Return a time as its date when it is a midnight (``2025-01-02``), else in full; None stays None."""
    if when is None:
        return None
    stamp = pd.Timestamp(when)
    return f"{stamp:%Y-%m-%d}" if stamp == stamp.normalize() else str(stamp)


def _check_finer(sub: pd.DataFrame, frame: pd.DataFrame) -> None:
    """Refuse sub-bars that cannot split the traded bars (each bar would be its own, pessimistic, sub-bar)."""
    source = sub.attrs.get("source", "<DataFrame>")
    if not is_intraday(sub):
        raise DataError(f"{source}: intraday bars are daily, not finer than the traded bars")
    if is_intraday(frame) and len(sub) > 1 and bar_interval(sub) >= bar_interval(frame):
        raise DataError(
            f"{source}: intraday bars every {_spacing(bar_interval(sub))}, not finer than the traded bars "
            f"({_spacing(bar_interval(frame))})"
        )


def _spacing(interval: pd.Timedelta) -> str:
    """Return a bar spacing as a trader says it: ``1 minute``, ``5 minutes``, ``1 hour``."""
    seconds = int(interval.total_seconds())
    for unit, size in (("day", 86_400), ("hour", 3_600), ("minute", 60)):
        if seconds % size == 0:
            return f"{seconds // size} {unit}{'s' if seconds // size != 1 else ''}"
    return str(interval)


def sub_bars_for(frame: pd.DataFrame, intraday: pd.DataFrame | str | Path | None) -> SubBars | None:
    """Group the intraday bars by the bar of `frame` they fall in: ``(open, high, low, close, sub_start)``.

    Daily bars take the sub-bars of their futures session (:func:`rtystrat.data.bars.session_dates`); intraday
    bars take those stamped from their own time to their time plus the bar spacing. Sub-bars outside every
    bar are dropped.
    """
    if intraday is None:
        return None
    sub = intraday if isinstance(intraday, pd.DataFrame) else load_bars(intraday)
    _check_finer(sub, frame)
    if "tick_size" in frame.attrs:
        sub = snap_to_grid(sub, frame.attrs["tick_size"])  # a stop on the grid is touched by a low on it
    if is_intraday(frame):
        owner = np.searchsorted(frame.index, sub.index, side="right") - 1
        inside = owner >= 0
        inside[inside] = sub.index[inside] < frame.index[owner[inside]] + bar_interval(frame)
    else:
        days = frame.index.tz_localize(None) if frame.index.tz is not None else frame.index
        sessions = session_dates(sub.index)
        owner = days.get_indexer(sessions)
        inside = owner >= 0
    owner = owner[inside]
    sub = sub[inside]
    if np.any(np.diff(owner) < 0):
        raise DataError(f"{sub.attrs.get('source', '<DataFrame>')}: intraday bars are not in time order")
    sub_start = np.zeros(len(frame) + 1, dtype=np.int64)
    sub_start[1:] = np.cumsum(np.bincount(owner, minlength=len(frame)))
    columns = (sub[column].to_numpy(np.float64) for column in ("open", "high", "low", "close"))
    return (*columns, sub_start)


@dataclasses.dataclass(frozen=True)
class SubBarCheck:
    """How the sub-bars of a run's bars compared with them (see :func:`check_sub_bars`).

    `resolved` bars are walked through their sub-bars; `not_covered` have none; `disagreed` have sub-bars
    that do not match them and are resolved pessimistically like the uncovered ones. `worst` describes the
    disagreement farthest beyond its tolerance (None when none disagrees).
    """

    bars: int
    resolved: int
    not_covered: int
    disagreed: int
    worst: str | None

    def message(self) -> str:
        """Return the one-line report of the check."""
        text = (
            f"intraday bars resolve {self.resolved:,} of {self.bars:,} bars; {self.not_covered:,} not covered"
        )
        if self.disagreed:
            text += f", {self.disagreed:,} disagree with their bar (worst: {self.worst})"
        return text + "; those are resolved pessimistically"


def check_sub_bars(
    frame: pd.DataFrame,
    sub_bars: SubBars,
    *,
    open_ticks: float = SUB_BAR_OPEN_TICKS,
    close_ticks: float = SUB_BAR_CLOSE_TICKS,
) -> tuple[SubBars, SubBarCheck]:
    """Keep the sub-bars of the bars they agree with; the other bars lose theirs (so stay pessimistic).

    Sub-bars agree with their bar when their highest high and lowest low are the bar's (within half a tick:
    the same price on the grid), their first open is within `open_ticks` of the bar's open and their last
    close within `close_ticks` of its close. Sub-bars that cover part of the session (a file that ends
    mid-day) or another contract month (a vendor that rolls its intraday series earlier) miss the bar's high
    or low and are refused; the bar is then resolved as if it had no sub-bars. Ticks are
    ``frame.attrs["tick_size"]`` (RTY's 0.1 when unset).

    Returns
    -------
    (sub-bars, SubBarCheck)
        The sub-bars in the layout of :func:`sub_bars_for`, and the counts with the worst disagreement.
    """
    opens, highs, lows, closes, sub_start = sub_bars
    tick = tick_size_of(frame)
    counts = np.diff(sub_start)
    covered = np.flatnonzero(counts > 0)
    first = sub_start[covered]
    last = sub_start[covered + 1] - 1
    agree = np.zeros(len(frame), dtype=bool)
    worst = None
    if len(covered):
        bar = {name: frame[name].to_numpy(np.float64)[covered] for name in ("open", "high", "low", "close")}
        # the groups are contiguous and in bar order, so each reduceat segment is one bar's sub-bars
        measured = {
            "high": np.maximum.reduceat(highs, first),
            "low": np.minimum.reduceat(lows, first),
            "open": opens[first],
            "close": closes[last],
        }
        limits = {"high": 0.5, "low": 0.5, "open": open_ticks, "close": close_ticks}
        off = {name: np.abs(measured[name] - bar[name]) / tick for name in limits}
        beyond = np.column_stack([off[name] - limits[name] for name in limits])
        agree[covered] = np.all(beyond < 0, axis=1)
        if not agree[covered].all():
            row, column = np.unravel_index(np.argmax(beyond), beyond.shape)
            name = list(limits)[column]
            worst = (
                f"{_day(frame.index[covered[row]])} sub-bar {'first ' if name == 'open' else ''}"
                f"{'last ' if name == 'close' else ''}{name} {measured[name][row]:,g} vs the bar's "
                f"{bar[name][row]:,g}, {off[name][row]:,.0f} ticks"
            )
    keep = np.repeat(agree, counts)
    kept_start = np.zeros_like(sub_start)
    kept_start[1:] = np.cumsum(np.where(agree, counts, 0))
    check = SubBarCheck(
        bars=len(frame),
        resolved=int(agree.sum()),
        not_covered=int(np.sum(counts == 0)),
        disagreed=int(len(covered) - agree[covered].sum()),
        worst=worst,
    )
    return (opens[keep], highs[keep], lows[keep], closes[keep], kept_start), check
