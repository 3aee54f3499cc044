"""Continuous futures series: chain individual contracts with a roll rule and back-adjust older prices.

A futures contract lives a few months; a backtest over years needs one series. This module chains
per-contract frames (``RTY_202609.csv``, ``RTY_202612.csv``, …) into one, in expiry order, and says which
contract every row came from (column ``contract``) and when each roll happened (the schedule), so an
execution layer can close a position on the old contract and reopen it on the new one at the roll.

Rules, precisely
----------------
Contracts are chained in expiry order; a missing month is skipped (the chain goes straight to the next
file), provided the two files overlap. Roll decisions are made per trading session (for intraday bars the
CME session, which opens at 17:00 CT the evening before): a contract's session close is its last close of
the session, its session volume the sum over the session.

- ``roll="days_before_expiry:N"``: the roll date is the last session both contracts have data on, on or
  before the N-th exchange business day before the front contract's expiry
  (:func:`rtystrat.data.contracts.roll_date`; N = 0 is the expiry day itself).
- ``roll="volume"`` (or ``"open_interest"``, when the frames carry an ``open_interest`` column): the
  roll date is the first common session on which the next contract's volume (open interest) is strictly
  greater than the front's. Settlement-only rows of a deferred contract have volume 0, so they can never
  trigger a roll: the series does not move into a contract before it really trades.

The roll happens at the close of the roll date: rows of the roll date's session come from the old
contract, the first row from the new contract is the next session. The series starts with the first row
of the nearest contract. It ends with the last row of the active contract when the data ends before
the next roll is due (no next-contract data after that row); contracts never reached are not used.

Back-adjustment
---------------
Unadjusted prices jump at every roll by the calendar spread, which a backtest would read as a move.
Adjusting shifts the *older* segments so each roll joins seamlessly, measured on the roll date's session
closes of both contracts, ``from_price`` (old) and ``to_price`` (new):

- ``adjust="difference"`` (Panama): add ``gap = to_price − from_price`` to open/high/low/close of every
  row up to the roll date; gaps of later rolls accumulate, ``offset_k = Σ_{j ≥ k} gap_j``. Point
  distances (stops, targets, P&L in points) are preserved; old prices can drift far from the prices
  actually traded (or below zero, which is refused).
- ``adjust="ratio"``: multiply by ``ratio = to_price / from_price`` (cumulative product). Percentage moves
  are preserved; point distances and tick alignment are not.
- ``adjust="none"``: raw prices with the jumps (the schedule still records them).

The newest contract is never adjusted, so the end of the series shows the prices traded today. Volume and
open interest are never adjusted.

References
----------
Schwager, J. D. (1995), *Schwager on Futures: Technical Analysis*, ch. 5 "Linking contracts for long-term
chart analysis" (nearest futures vs. continuous (spread-adjusted) futures).
"""

from __future__ import annotations

import dataclasses
import itertools
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from rtystrat.data.bars import load_bars, session_dates
from rtystrat.data.contracts import contract_code, parse_contract_code, parse_contract_file_name, roll_date
from rtystrat.errors import DataError, ParameterError, suggest

__all__ = ["SCHEDULE_COLUMNS", "ContinuousSeries", "build_continuous", "load_contract_files"]

Adjustment = Literal["none", "difference", "ratio"]
_ADJUSTMENTS = ("none", "difference", "ratio")
_ROLL_RULES = ("days_before_expiry:N", "volume", "open_interest")
_DAYS_RULE = re.compile(r"^days_before_expiry:(\d+)$")
_FILE_SUFFIXES = (".csv", ".parquet")

#: Columns of :attr:`ContinuousSeries.schedule`, one row per roll.
SCHEDULE_COLUMNS = (
    "roll_date",  # session at whose close the roll happens (tz-naive date)
    "from_contract",  # e.g. "RTYU26"
    "to_contract",  # e.g. "RTYZ26"
    "from_price",  # old contract's raw session close on the roll date
    "to_price",  # new contract's raw session close on the roll date
    "price_gap",  # to_price − from_price (points)
    "price_ratio",  # to_price / from_price
    "adjustment",  # applied to every earlier row: points added (difference), factor (ratio), 0.0 (none)
)


@dataclasses.dataclass(frozen=True)
class ContinuousSeries:
    """A continuous series and how it was built.

    Attributes
    ----------
    bars : pandas.DataFrame
        Canonical bar frame (index ``"time"``, float64 ``open, high, low, close, volume``, and
        ``open_interest`` when every used contract has it) plus str column ``contract``: the code of the
        contract each row came from (``"RTYU26"``).
    schedule : pandas.DataFrame
        One row per roll, columns :data:`SCHEDULE_COLUMNS`; empty when the data never reaches a roll.
    root, roll, adjust : str
        Root symbol and the rule and adjustment used.
    """

    bars: pd.DataFrame
    schedule: pd.DataFrame
    root: str
    roll: str
    adjust: str


@dataclasses.dataclass(frozen=True)
class _Contract:
    """One contract's frame with its per-row session dates and per-session close/volume/open interest."""

    code: str
    root: str
    year: int
    month: int
    frame: pd.DataFrame
    row_sessions: pd.DatetimeIndex
    sessions: pd.DataFrame

    @property
    def last_session(self) -> pd.Timestamp:
        return self.sessions.index[-1]


def load_contract_files(
    folder: str | Path, root: str | None = None, **load_options: Any
) -> dict[str, pd.DataFrame]:
    """Read every ``<ROOT>_<YYYYMM>.csv`` (or ``.parquet``) of `folder` with
    :func:`rtystrat.data.bars.load_bars`.

    Parameters
    ----------
    folder : str or Path
        Folder of per-contract files, e.g. ``../shared/data/contracts/RTY``.
    root : str, optional
        Root symbol (case-insensitive); may be omitted when the folder holds a single root.
    **load_options
        Passed to :func:`rtystrat.data.bars.load_bars` (``tz=``, ``repair=``, …).

    Returns
    -------
    dict of str to pandas.DataFrame
        Frames keyed by contract code (``"RTYU26"``), in expiry order, ready for :func:`build_continuous`.

    Raises
    ------
    DataError
        When the folder does not exist, holds no file of the root (naming the roots it does hold), or holds
        two files for one contract month.
    """
    path = Path(folder)
    if not path.is_dir():
        raise DataError(f"{path}: not a folder of <ROOT>_<YYYYMM>.csv contract files")
    files: dict[tuple[str, int, int], Path] = {}
    for file in sorted(path.iterdir()):
        if file.suffix.lower() not in _FILE_SUFFIXES:
            continue
        try:
            key = parse_contract_file_name(file.name)
        except ParameterError:
            continue  # not a contract file; folders often hold a README or notes too
        if key in files:
            raise DataError(f"{path}: two files for {contract_code(*key)}: {files[key].name} and {file.name}")
        files[key] = file
    roots = sorted({key[0] for key in files})
    if root is None:
        if len(roots) != 1:
            found = f"roots found: {', '.join(roots)}; pass root=" if roots else "no contract files found"
            raise DataError(f"{path}: cannot tell which root to load ({found})")
        root = roots[0]
    wanted = root.strip().upper()
    chosen = sorted(key for key in files if key[0] == wanted)
    if not chosen:
        found = f"roots found: {', '.join(roots)}" if roots else "it holds no contract files"
        raise DataError(f"{path}: no {wanted}_YYYYMM.csv files{suggest(wanted, roots)} ({found})")
    return {contract_code(*key): load_bars(files[key], **load_options) for key in chosen}


def build_continuous(
    contracts: Mapping[str, pd.DataFrame],
    *,
    roll: str = "days_before_expiry:5",
    adjust: Adjustment = "none",
) -> ContinuousSeries:
    """Chain per-contract bar frames into one continuous series (rules in the module docstring).

    Parameters
    ----------
    contracts : mapping of str to pandas.DataFrame
        Canonical bar frames (:func:`rtystrat.data.bars.load_bars`) of one root, keyed by contract code
        (``"RTYU26"``) or file name (``"RTY_202609"``, ``"RTY_202609.csv"``), in any order.
    roll : str, default "days_before_expiry:5"
        ``"days_before_expiry:N"``, ``"volume"`` or ``"open_interest"``.
    adjust : {"none", "difference", "ratio"}, default "none"
        Back-adjustment of older contracts at each roll.

    Returns
    -------
    ContinuousSeries
        ``bars`` with a ``contract`` column and the roll ``schedule``.

    Raises
    ------
    ParameterError
        Unknown roll rule or adjustment, or a key that names no contract.
    DataError
        No contracts, contracts of several roots or time zones, a frame without the needed columns, two
        consecutive contracts without a common session before the roll is due, a front contract whose data
        stops before its roll while the next one continues, or a difference adjustment that makes a price
        non-positive.

    Examples
    --------
    >>> series = build_continuous(load_contract_files("contracts/RTY"), adjust="difference")  # doctest: +SKIP
    >>> series.schedule[["roll_date", "from_contract", "to_contract", "price_gap"]]  # doctest: +SKIP
    """
    rule, days = _parse_roll(roll)
    if adjust not in _ADJUSTMENTS:
        raise ParameterError(
            f"adjust must be one of {', '.join(_ADJUSTMENTS)}, got {adjust!r}"
            + suggest(str(adjust), _ADJUSTMENTS)
        )
    chain = _chain(contracts, rule)
    rolls: list[tuple[pd.Timestamp, _Contract, _Contract]] = []
    after = None
    for front, following in itertools.pairwise(chain):
        when = _roll_session(front, following, after, rule, days)
        if when is None:
            break
        rolls.append((when, front, following))
        after = when
    schedule = _schedule(rolls, adjust)
    bars = _splice(chain[: len(rolls) + 1], schedule, adjust)
    return ContinuousSeries(bars=bars, schedule=schedule, root=chain[0].root, roll=roll, adjust=adjust)


def _parse_roll(roll: str) -> tuple[str, int]:
    """Return ``(rule, days)`` from a roll specification; `days` is 0 for the volume/OI rules."""
    if roll in ("volume", "open_interest"):
        return roll, 0
    match = _DAYS_RULE.match(roll)
    if not match:
        raise ParameterError(
            f"roll must be one of {', '.join(_ROLL_RULES)}, got {roll!r}{suggest(roll, _ROLL_RULES)}"
        )
    return "days_before_expiry", int(match.group(1))


def _chain(contracts: Mapping[str, pd.DataFrame], rule: str) -> list[_Contract]:
    """Validate the frames and return them as contracts in expiry order."""
    if not contracts:
        raise DataError("no contracts given: build_continuous needs at least one contract frame")
    needed = ["open", "high", "low", "close", "volume"] + (
        ["open_interest"] if rule == "open_interest" else []
    )
    chain: dict[str, _Contract] = {}
    for name, frame in contracts.items():
        root, year, month = _parse_name(name)
        code = contract_code(root, year, month)
        if code in chain:
            raise DataError(f"contract {code} given twice (as {name!r} and another key)")
        missing = [column for column in needed if column not in frame.columns]
        if missing:
            raise DataError(
                f"{code}: missing column {missing[0]!r} (columns: {', '.join(map(str, frame.columns))})"
            )
        if frame.empty or not isinstance(frame.index, pd.DatetimeIndex):
            raise DataError(f"{code}: needs at least one row and a DatetimeIndex (read it with load_bars)")
        row_sessions = session_dates(frame.index)
        grouped = frame.groupby(row_sessions.to_numpy())
        sessions = pd.DataFrame({"close": grouped["close"].last(), "volume": grouped["volume"].sum()})
        if "open_interest" in frame.columns:
            sessions["open_interest"] = grouped["open_interest"].last()
        chain[code] = _Contract(code, root, year, month, frame, row_sessions, sessions)
    ordered = sorted(chain.values(), key=lambda contract: (contract.year, contract.month))
    roots = sorted({contract.root for contract in ordered})
    if len(roots) > 1:
        raise DataError(f"contracts of several roots given ({', '.join(roots)}); chain one root at a time")
    zones = {str(contract.frame.index.tz) for contract in ordered}
    if len(zones) > 1:
        raise DataError(f"{ordered[0].root} contracts have different time zones ({', '.join(sorted(zones))})")
    return ordered


def _parse_name(name: str) -> tuple[str, int, int]:
    """Read a mapping key as a file name (``RTY_202609[.csv]``) or a contract code (``RTYU26``)."""
    for parse in (parse_contract_file_name, parse_contract_code):
        try:
            return parse(name)
        except ParameterError:
            continue
    raise ParameterError(
        f"contract key {name!r} is neither a code like 'RTYU26' nor a file name like 'RTY_202609'"
    )


def _roll_session(
    front: _Contract, following: _Contract, after: pd.Timestamp | None, rule: str, days: int
) -> pd.Timestamp | None:
    """Return the session at whose close `front` rolls into `following`, or None when the data ends first."""
    common = front.sessions.index.intersection(following.sessions.index)
    if after is not None:
        common = common[common > after]
    data_ends = following.last_session <= front.last_session
    if rule == "days_before_expiry":
        due = pd.Timestamp(roll_date(front.root, front.year, front.month, business_days_before=days))
        if front.last_session < due:
            if data_ends:
                return None
            raise DataError(
                f"{_span(front)} stops before its roll date {_day(due)} while {following.code} continues to "
                f"{_day(following.last_session)}: rows are missing"
            )
        candidates = common[common <= due]
        if candidates.empty:
            raise DataError(
                f"{_span(front)} and {_span(following)} share no session on or before the roll date "
                f"{_day(due)}: the files must overlap"
            )
        return candidates[-1]
    ahead = following.sessions.loc[common, rule].to_numpy() > front.sessions.loc[common, rule].to_numpy()
    if ahead.any():
        return common[int(np.argmax(ahead))]
    if data_ends:
        return None
    raise DataError(
        f"{following.code}'s {rule} never exceeds {front.code}'s on a common session while "
        f"{_span(front)} ends before {_span(following)}"
        + ("" if len(common) else ": they share no session, the files must overlap")
    )


def _schedule(rolls: list[tuple[pd.Timestamp, _Contract, _Contract]], adjust: str) -> pd.DataFrame:
    """Tabulate the rolls with raw roll-date closes and the adjustment each applies to earlier rows."""
    from_price = np.array([front.sessions.at[when, "close"] for when, front, _ in rolls], dtype=np.float64)
    to_price = np.array(
        [following.sessions.at[when, "close"] for when, _, following in rolls], dtype=np.float64
    )
    # Roll-date closes sit on the tick grid; rounding drops the float noise of their difference.
    gap = np.round(to_price - from_price, 10)
    ratio = to_price / from_price
    adjustment = {"none": np.zeros_like(gap), "difference": gap, "ratio": ratio}[adjust]
    return pd.DataFrame(
        {
            "roll_date": pd.DatetimeIndex([when for when, _, _ in rolls], dtype="datetime64[ns]"),
            "from_contract": pd.Series([front.code for _, front, _ in rolls], dtype=str),
            "to_contract": pd.Series([following.code for _, _, following in rolls], dtype=str),
            "from_price": from_price,
            "to_price": to_price,
            "price_gap": gap,
            "price_ratio": ratio,
            "adjustment": adjustment,
        },
        columns=list(SCHEDULE_COLUMNS),
    )


def _splice(active: list[_Contract], schedule: pd.DataFrame, adjust: str) -> pd.DataFrame:
    """Concatenate each active contract's rows between its rolls and back-adjust older segments."""
    bounds = [None, *schedule["roll_date"], None]
    adjustment = schedule["adjustment"].to_numpy()
    # Segment k is shifted by every roll from k on: a reversed cumulative sum (difference) or product (ratio).
    if adjust == "ratio":
        cumulative = np.append(np.cumprod(adjustment[::-1])[::-1], 1.0)
    else:
        cumulative = np.append(np.cumsum(adjustment[::-1])[::-1], 0.0)
    keep = ["open", "high", "low", "close", "volume"]
    if all("open_interest" in contract.frame.columns for contract in active):
        keep.append("open_interest")
    pieces = []
    for k, contract in enumerate(active):
        mask = np.ones(len(contract.frame), dtype=bool)
        if bounds[k] is not None:
            mask &= contract.row_sessions > bounds[k]
        if bounds[k + 1] is not None:
            mask &= contract.row_sessions <= bounds[k + 1]
        piece = contract.frame.loc[mask, keep].astype(np.float64)
        prices = ["open", "high", "low", "close"]
        if adjust == "ratio":
            piece[prices] = piece[prices] * cumulative[k]
        elif adjust == "difference":
            # Sums of tick-grid prices carry float noise (2000.1 + 23.4 = 2023.5000000000002): round it off.
            piece[prices] = (piece[prices] + cumulative[k]).round(10)
        piece["contract"] = pd.Series(contract.code, index=piece.index, dtype=str)
        pieces.append(piece)
    bars = pd.concat(pieces)
    # Canonical frames carry nanosecond times and no frequency, whatever the input frames had.
    bars.index = pd.DatetimeIndex(bars.index, freq=None, name="time").as_unit("ns")
    if adjust == "difference" and not (bars["low"] > 0).all():
        first = bars.index[int(np.argmax(bars["low"].to_numpy() <= 0))]
        raise DataError(
            f"difference adjustment makes {active[0].root} prices non-positive at {first}; use adjust='ratio'"
        )
    bars.attrs["source"] = f"continuous {active[0].root} ({len(active)} contracts)"
    return bars


def _day(when: pd.Timestamp) -> str:
    return f"{when:%Y-%m-%d}"


def _span(contract: _Contract) -> str:
    """Name a contract with its session range, for error messages: ``RTYU26 (2025-06-23..2026-07-31)``."""
    return f"{contract.code} ({_day(contract.sessions.index[0])}..{_day(contract.last_session)})"
