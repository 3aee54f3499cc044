"""Parameter sweeps that stream, resume and scale out.

:func:`sweep` runs one strategy over every combination of a :class:`~rtystrat.tuning.space.ParameterSpace` and
returns a frame indexed by the parameters (one row per run, one column per statistic), as backtesting.py's
optimiser does. Runs go in bounded batches to a process pool (default), a Dask cluster, the calling process
or any executor (:mod:`rtystrat.tuning.executors`); each worker receives the prepared data once, never per
task.

Memory stays flat: at most a few batches are in flight, workers return statistics only (never trade logs),
and each finished run is written to the optional :class:`~rtystrat.tuning.store.ResultStore` and committed at
once, so a sweep killed midway resumes where it stopped. Results do not depend on the executor.

Engines: ``"kernel"`` (the numba fast path of :mod:`rtystrat.execution.kernel`, same fill rules and costs)
screens large grids; ``"backtrader"`` runs :func:`rtystrat.execution.engine.run_backtest`. ``confirm_top=N``
reruns the best N kernel candidates through backtrader and adds their statistics as ``"Backtrader <stat>"``
columns.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import hashlib
import itertools
import logging
import os
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
from tqdm import tqdm

from rtystrat.analysis import metrics
from rtystrat.errors import ParameterError, suggest
from rtystrat.execution import kernel
from rtystrat.execution.compiling import announce_compiling
from rtystrat.execution.tradelog import TRADE_COLUMNS
from rtystrat.registry import get_strategy
from rtystrat.tuning.executors import (
    Installed,
    Payload,
    forks_workers,
    open_executor,
    payload_data,
    portable_strategy,
    stream,
    worker_strategy,
)
from rtystrat.tuning.space import ParameterSpace
from rtystrat.tuning.spool import ReturnsSpool
from rtystrat.tuning.store import ResultStore, RunKey, canonical_json, code_version, data_fingerprint, plain

__all__ = ["ENGINES", "PERIODS", "best_parameters", "period_ends", "rank", "row_parameters", "sweep"]

ENGINES = ("kernel", "backtrader")
#: Periods of the returns a sweep keeps: trading day, week, month (of futures sessions).
PERIODS = ("D", "W", "M")
_LOG = logging.getLogger(__name__)


# ------------------------------------------------------------------------------------------------- workers
class _Job(NamedTuple):
    """What a worker needs besides the data: picklable and small."""

    strategy: type | str  # the class, or its file reference (portable_strategy)
    engine: str
    config: Any
    full_stats: bool
    period_ends: np.ndarray | None = None  # last bar of each period whose return is kept; None keeps none


def period_ends(index: pd.DatetimeIndex, period: str = "D") -> np.ndarray:
    """Return the position of the last bar of each period of `index` (futures sessions: ``"D"`` a trading
    day, ``"W"`` a week, ``"M"`` a month)."""
    from rtystrat.data.bars import session_dates

    dates = session_dates(index)
    keys = dates if period == "D" else dates.to_period(period)
    return np.flatnonzero(np.r_[keys[1:] != keys[:-1], True])


def _period_returns(equity: np.ndarray, ends: np.ndarray, cash: float) -> np.ndarray:
    """Per-period simple returns of `equity` at `ends` (the first period from `cash`), as float32."""
    closes = equity[ends]
    return (closes / np.r_[cash, closes[:-1]] - 1.0).astype(np.float32)


def _evaluate(job: _Job, data: Any, params: Mapping[str, Any]) -> tuple[dict[str, Any], np.ndarray | None]:
    """Run one parameter combination; return its statistics as plain data and its per-period returns (when
    the job keeps them)."""
    strategy = worker_strategy(job.strategy)
    ends = job.period_ends
    if job.engine == "kernel" and ends is None:
        return plain(kernel.evaluate(strategy, data, params, job.config, full_stats=job.full_stats)), None
    if job.engine == "kernel":
        stats, equity = kernel.evaluate_with_equity(
            strategy, data, params, job.config, full_stats=job.full_stats
        )
        return plain(stats), _period_returns(equity, ends, data.cash)
    from rtystrat.execution.engine import run_backtest  # backtrader is imported only where it runs

    result = run_backtest(strategy, data, config=job.config, params=dict(params))
    if ends is None:
        return plain(result.stats.to_dict()), None
    equity = result.equity.reindex(data.index).ffill().fillna(float(job.config.cash)).to_numpy()
    return plain(result.stats.to_dict()), _period_returns(equity, ends, float(job.config.cash))


def _run_batch(
    job: _Job, reference: Payload | Installed, batch: list[tuple[int, dict[str, Any]]]
) -> list[tuple[int, dict[str, Any], np.ndarray | None]]:
    """Worker task: evaluate a batch of ``(position, params)``; return ``(position, stats, returns)``."""
    data = payload_data(reference)
    return [(position, *_evaluate(job, data, params)) for position, params in batch]


def _resolve_strategy(strategy: str | type) -> type:
    return get_strategy(strategy) if isinstance(strategy, str) else strategy


def _resolve_data(data: pd.DataFrame | str | Path) -> pd.DataFrame:
    if isinstance(data, pd.DataFrame):
        return data
    from rtystrat.data.bars import load_bars

    return load_bars(data)


def _backtrader_frame(strategy: type, bars: pd.DataFrame, config: Any) -> pd.DataFrame:
    """Return the indicator frame the engine would build, so backtrader runs do not rebuild it each time."""
    from rtystrat.execution.engine import indicator_frame_for  # imports backtrader: only for backtrader runs

    return indicator_frame_for(strategy, bars, config)


def _default_config(config: Any) -> Any:
    if config is not None:
        return config
    from rtystrat.execution.config import RunConfig

    return RunConfig()


def _validated(
    strategy: type, combinations: Iterable[dict[str, Any]]
) -> Iterator[tuple[int, dict[str, Any]] | str]:
    """Yield ``(position, resolved params)`` per combination, or an error text for an impossible one."""
    for position, combination in enumerate(combinations):
        try:
            yield position, strategy.parameters.validate(combination, owner=strategy.name)
        except ParameterError as exc:
            yield str(exc)


def _check_axes(strategy: type, space: ParameterSpace) -> None:
    """Fail before any run on an unknown parameter or a value that is invalid on its own."""
    strategy.parameters.check_names(space.names, owner=strategy.name)
    for name, values in space.axes.items():
        for value in values:
            strategy.parameters[name].convert(value, owner=strategy.name)


def _config_dict(config: Any) -> dict[str, Any]:
    return config.to_dict() if hasattr(config, "to_dict") else dataclasses.asdict(config)


class _Run(NamedTuple):
    values: tuple[Any, ...]  # the varied parameters, in axis order
    params: str  # canonical JSON of every parameter (the store key; empty without a store)
    stats: dict[str, Any]


def _run_combinations(
    strategy: type,
    job: _Job,
    bars: pd.DataFrame,
    payload_data: Any,
    names: list[str],
    combinations: Iterable[dict[str, Any]],
    total: int,
    *,
    executor: Any,
    workers: int | None,
    store: ResultStore | None,
    progress: bool,
) -> tuple[pd.DataFrame, np.ndarray | None]:
    """Run `combinations` (dicts over `names`) and return their frame, skipping runs found in `store`, and
    when the job keeps per-period returns, their (runs × periods) float32 matrix in the frame's row order,
    mapped read-only from a temporary file (:class:`~rtystrat.tuning.spool.ReturnsSpool`).

    A stored run counts as done only with its returns when they are kept (a store filled without them
    reruns those runs and adds their returns)."""
    engine = job.engine + ("-full" if job.full_stats and job.engine == "kernel" else "")
    config = canonical_json(_config_dict(job.config))
    # Hashing the bars (~0.1 s for a million, before any run starts) and the package's source: only a store
    # needs it.
    key = (
        RunKey(strategy.name, data_fingerprint(bars), config, engine, code_version(strategy))
        if store is not None
        else None
    )
    runs: dict[int, _Run] = {}
    invalid: list[str] = []
    parallel = workers or os.cpu_count() or 1
    # A backtrader run costs ~0.1-1 s: one per task. A kernel run costs from ~1 ms (daily bars) to ~0.1 s
    # (a million bars): up to 64 in a task amortise IPC, and stream() shrinks batches as the runs run out.
    batch_size = 1 if job.engine == "backtrader" else 64
    bar = tqdm(total=total, disable=not progress, unit="run", desc=f"{strategy.name} [{job.engine}]")
    keep = job.period_ends is not None
    # One float32 row per combination, 4 bytes per run and period, spooled to a file: memory stays flat.
    spool = ReturnsSpool(total, len(job.period_ends)) if keep else None
    skipped = 0  # runs found in the store

    def todo() -> Iterator[tuple[int, dict[str, Any]]]:
        """Yield the runs not in the store, recording stored ones on the way (looked up per slice)."""
        nonlocal skipped
        valid = (item for item in _validated(strategy, combinations) if _keep(item, invalid))
        while chunk := list(itertools.islice(valid, 256)):
            # the canonical JSON of the parameters keys the store; without one it is not needed
            texts = [canonical_json(params) if store is not None else "" for _, params in chunk]
            done = store.done(key, texts) if store is not None else {}
            if keep and done:
                stored = store.returns(key, done)
                done = {text: stats for text, stats in done.items() if text in stored}
            for (position, params), text in zip(chunk, texts, strict=True):
                values = tuple(params[name] for name in names)
                runs[position] = _Run(values, text, done.get(text, {}))
                if text in done:
                    if keep:
                        spool.write(position, stored[text])
                    skipped += 1
                    bar.update(1)
                else:
                    yield position, params

    payload = Payload(
        f"{engine}:{id(payload_data)}:{hashlib.sha256(config.encode()).hexdigest()[:16]}", payload_data
    )
    pending = todo()
    # numba compiling the kernel (a first sweep after installing) stalls the first run for half a minute
    with announce_compiling(bar) as ran:
        # With forked workers the first run goes here: it loads the compiled code in this process, and the
        # workers forked afterwards inherit it ready to run instead of each loading it again.
        first_here = job.engine == "kernel" and forks_workers(executor)
        here = list(itertools.islice(pending, 1)) if first_here else []
        done_here = _run_batch(job, payload, here)
        with bar, open_executor(executor, workers, payload) as (pool, reference):
            for position, stats, returns in itertools.chain(
                done_here,
                stream(
                    pool,
                    _run_batch,
                    job,
                    reference,
                    pending,
                    batch_size=batch_size,
                    max_pending=2 * parallel,
                    total=lambda: total - len(here) - skipped - len(invalid),  # at most the runs to do
                ),
            ):
                run = runs[position]
                if store is not None:
                    store.add(key, run.params, stats, returns)
                if keep:
                    spool.write(position, returns)
                runs[position] = run._replace(stats=stats)
                ran()
                bar.update(1)
    if invalid:
        _LOG.warning("%d impossible combination(s) skipped, e.g. %s", len(invalid), invalid[0])
    order = sorted(runs)
    matrix = spool.mapped(order if len(order) < total else None) if keep else None  # impossible: no row
    return _frame(names, [runs[position] for position in order]), matrix


def _keep(item: tuple[int, dict[str, Any]] | str, invalid: list[str]) -> bool:
    if isinstance(item, str):
        invalid.append(item)
        return False
    return True


def _frame(names: list[str], runs: list[_Run]) -> pd.DataFrame:
    values = [run.values for run in runs]
    if len(names) == 1:
        index = pd.Index([value for (value,) in values], name=names[0])
    elif values:
        index = pd.MultiIndex.from_tuples(values, names=names)
    else:  # every combination was impossible: still index by the parameters
        index = pd.MultiIndex.from_arrays([[] for _ in names], names=names)
    if not runs:
        return pd.DataFrame(index=index)
    return pd.DataFrame.from_records([run.stats for run in runs], index=index)


@functools.cache
def statistic_names() -> tuple[str, ...]:
    """Return the name of every statistic a run can report (computed once, on three flat bars)."""
    times = pd.date_range("2024-01-01", periods=3, freq="D", name="time")
    columns = [*TRADE_COLUMNS, "ambiguous", "pnl_net_pessimistic", "pnl_net_optimistic"]
    trades = pd.DataFrame({column: pd.Series(dtype="float64") for column in columns})
    for column in ("entry_time", "exit_time"):
        trades[column] = pd.Series(dtype="datetime64[ns]")
    stats = metrics.compute_stats(pd.Series(1.0, index=times), trades, bars_per_year=252.0)
    return tuple(dict.fromkeys([*stats.index, *kernel.FAST_STATS]))


def check_objective(objective: str) -> None:
    """Raise a ParameterError, before anything runs, when `objective` names no statistic."""
    names = statistic_names()
    if objective not in names:
        raise ParameterError(
            f"objective {objective!r} is not a statistic{suggest(objective, names)}; choose from "
            f"{', '.join(names)}"
        )


def rank(
    frame: pd.DataFrame,
    objective: str = "Expectancy [R]",
    *,
    min_trades: int = 10,
    maximize: bool = True,
) -> pd.DataFrame:
    """Return the rows of a sweep frame with at least `min_trades` trades, best `objective` first.

    Ties keep grid order; rows whose objective is NaN come last. When no row qualifies, the empty frame is
    returned and a warning on the ``rtystrat`` logger says why (see :func:`why_unranked`).
    """
    if objective not in frame.columns:
        raise ParameterError(
            f"objective {objective!r} is not a statistic of this sweep{suggest(objective, frame.columns)}"
        )
    eligible = frame[frame["# Trades"] >= min_trades] if "# Trades" in frame else frame
    if eligible.empty:
        _LOG.warning("rank: empty ranking: %s", why_unranked(frame, min_trades))
    return eligible.sort_values(objective, ascending=not maximize, kind="stable", na_position="last")


def why_unranked(frame: pd.DataFrame, min_trades: int) -> str:
    """Say why no row of a sweep frame reaches `min_trades` trades, with the largest count any run has."""
    if frame.empty:
        return "the sweep has no runs"
    most = int(frame["# Trades"].max())
    return (
        f"no run has {min_trades} or more trades (the most any of the {len(frame)} runs has: {most}); "
        "lower min_trades, use more data or loosen the setup's filters"
    )


def best_parameters(
    frame: pd.DataFrame,
    objective: str = "Expectancy [R]",
    *,
    min_trades: int = 10,
    maximize: bool = True,
) -> dict[str, Any]:
    """Return the parameters of the best row of a sweep frame (see :func:`rank`) as a dict."""
    ranked = rank(frame, objective, min_trades=min_trades, maximize=maximize)
    if ranked.empty:
        raise ParameterError(f"best_parameters: {why_unranked(frame, min_trades)}")
    if pd.isna(ranked[objective].iloc[0]):
        raise ParameterError(
            f"best_parameters: no run with {min_trades} or more trades has a finite {objective!r}"
        )
    return row_parameters(ranked, 0)


def row_parameters(frame: pd.DataFrame, row: int) -> dict[str, Any]:
    """Return the parameters of row number `row` of a sweep frame as a dict of plain values.

    pandas shows a parameter set to None (e.g. ``rsi_max=None``, no filter) as a missing value in the index;
    it comes back as None (declared parameters are never NaN).
    """
    values = frame.index[row]
    values = values if isinstance(values, tuple) else (values,)
    return {name: plain(value) for name, value in zip(frame.index.names, values, strict=True)}


def sweep(
    strategy: str | type,
    data: pd.DataFrame | str | Path,
    space: ParameterSpace | Mapping[str, Any],
    *,
    engine: str = "kernel",
    config: Any = None,
    executor: Any = None,
    workers: int | None = None,
    store: ResultStore | str | Path | None = None,
    objective: str = "Expectancy [R]",
    min_trades: int = 10,
    maximize: bool = True,
    confirm_top: int = 0,
    progress: bool = True,
    keep_returns: bool = False,
    period: str = "D",
) -> pd.DataFrame | tuple[pd.DataFrame, pd.DataFrame]:
    """Run `strategy` over every combination of `space` and return one row of statistics per run.

    Parameters
    ----------
    strategy : str or SetupStrategy subclass
        Registered name (``"bullish_reversal"``) or the class.
    data : DataFrame or path
        Bars (canonical frame of :func:`rtystrat.data.bars.load_bars`, or a file it reads).
    space : ParameterSpace or mapping
        Parameters to vary (``{"stop_offset": "5:40:5pt", "target": ["pivot", "r1"]}``); the others keep their
        declared defaults.
    engine : {"kernel", "backtrader"}
        The numba fast path or the backtrader engine (same fills and costs).
    config : RunConfig, optional
        Run settings shared by every run (contract, fill policy, costs); the default ``RunConfig()``.
    executor : str, Executor or distributed.Client, optional
        ``"process"`` (default, `workers` processes, default all cores), ``"serial"``, ``"dask-local"``,
        ``"dask://HOST:PORT"``, or an executor object.
    store : ResultStore or path, optional
        Results store: finished runs found there are not rerun, new ones are written as they finish.
    objective, min_trades, maximize
        How :func:`rank` orders runs (for `confirm_top`); the kernel computes every statistic when the
        objective is not among its fast ones (:data:`rtystrat.execution.kernel.FAST_STATS`).
    confirm_top : int
        Rerun the best N kernel runs through backtrader; their statistics fill ``"Backtrader <stat>"``
        columns.
    progress : bool
        Show a tqdm progress bar with ETA on stderr.
    keep_returns : bool
        Also keep each run's per-period returns (float32, written to `store` with the run, so a resumed
        sweep has them), for :func:`rtystrat.tuning.diagnostics.diagnose`. They are spooled to a temporary
        file and the returned frame reads it through a read-only memory map, so memory does not grow with
        the grid (copy the frame to modify it).
    period : {"D", "W", "M"}
        The period of the kept returns: trading day (default), week or month of futures sessions.

    Returns
    -------
    pd.DataFrame or (pd.DataFrame, pd.DataFrame)
        Indexed by the varied parameters (grid order), one column per statistic; with `keep_returns`, also
        the returns: one row per period (indexed by its last bar's time), column k for row k of the first.
    """
    if engine not in ENGINES:
        raise ParameterError(
            f"engine={engine!r}: expected one of {', '.join(ENGINES)}{suggest(engine, ENGINES)}"
        )
    strategy = _resolve_strategy(strategy)
    bars = _resolve_data(data)
    config = _default_config(config)
    space = space if isinstance(space, ParameterSpace) else ParameterSpace(space)
    _check_axes(strategy, space)
    check_objective(objective)
    full_stats = objective not in kernel.FAST_STATS
    if period not in PERIODS:
        raise ParameterError(
            f"period={period!r}: expected one of {', '.join(PERIODS)}{suggest(period, PERIODS)}"
        )
    ends = period_ends(bars.index, period) if keep_returns else None
    job = _Job(portable_strategy(strategy), engine, config, full_stats, ends)
    payload = (
        kernel.prepare(strategy, bars, config)
        if engine == "kernel"
        else _backtrader_frame(strategy, bars, config)
    )
    with contextlib.ExitStack() as stack:
        if store is not None and not isinstance(store, ResultStore):
            store = stack.enter_context(ResultStore(store))
        options = {"executor": executor, "workers": workers, "store": store, "progress": progress}
        total = space.runs if not space.constraints else sum(1 for _ in space)
        if total == 0:
            raise ParameterError(
                f"the constraints leave none of the grid's {space.runs:,} combinations to run; loosen "
                "--constraint"
            )
        frame, matrix = _run_combinations(strategy, job, bars, payload, space.names, space, total, **options)
        if confirm_top and engine == "kernel" and not frame.empty:
            top = rank(frame, objective, min_trades=min_trades, maximize=maximize).head(confirm_top)
            frame = _confirm(frame, top, strategy, job, bars, min_trades, options)
    if matrix is None:
        return frame
    # copy=False: the frame reads the mapped file rather than a copy of it in memory
    return frame, pd.DataFrame(matrix.T, index=bars.index[ends], columns=frame.index, copy=False)


def _confirm(
    frame: pd.DataFrame,
    top: pd.DataFrame,
    strategy: type,
    job: _Job,
    bars: pd.DataFrame,
    min_trades: int,
    options: dict[str, Any],
) -> pd.DataFrame:
    """Rerun the `top` rows of a kernel sweep in backtrader; join their statistics as "Backtrader <stat>"."""
    if top.empty:
        _LOG.warning(
            "confirm_top: no run has %d or more trades; nothing to confirm in backtrader", min_trades
        )
        return frame
    combinations = [row_parameters(top, row) for row in range(len(top))]
    confirmed, _ = _run_combinations(
        strategy,
        job._replace(engine="backtrader", full_stats=True, period_ends=None),
        bars,
        _backtrader_frame(strategy, bars, job.config),
        list(frame.index.names),
        combinations,
        len(combinations),
        **options,
    )
    return frame.join(confirmed.add_prefix("Backtrader "))
