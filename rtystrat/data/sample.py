"""Seeded generator of the synthetic RTY-like sample shipped in ``data/``.

The project cannot ship vendor data, so it ships prices made here: daily bars on the CME trade dates
(:func:`rtystrat.data.calendar.trade_dates`) from 2008 to 2025 and one year (2025) of 1-minute bars over
23-hour CME sessions (17:00–16:00 Chicago time, Sunday-evening open, no session on days that are not trade
dates, early closes at 12:15 on the day after Thanksgiving and on Christmas Eve), on the RTY tick of 0.1
point. They are synthetic: no row is a real price. The early closes are the generator's own, not read from
the calendar library: its CME equity session calendar closes them at 12:00 and also closes 3 July early,
which would change the shipped minute bars.

Model
-----
Daily log returns follow a three-regime switching geometric Brownian motion (bull, chop, bear; a Markov
chain with mean regime durations of roughly a year, four months and two months) with Student-t shocks
(5 degrees of freedom) for fat tails, small gaps between sessions, larger ones after weekends and
holidays, and rare jumps. Each session's high and low come from the running maximum and minimum of a
Brownian bridge from open to close, sampled exactly by inverting the reflection-principle tail
``P(max > m) = exp(-2m(m - b) / s²)`` (bridge from 0 to b with variance s²). Bear regimes make price fall
through the previous month's S2 floor pivot (``P = (H + L + C) / 3``, ``S2 = P - (H - L)``,
``S3 = L - 2(H - P)``) and sometimes on to S3, and bounce off it in other months — what the strategies of
this project trade.

The 1-minute bars are drawn inside each daily bar of 2025: a Brownian bridge from the session's open to
its close, its excursions stretched to reach the day's high and low exactly, with the day's volume split
over the minutes by a U-shaped intraday profile. So resampling the minutes by futures session gives the
daily rows of 2025 exactly.

Regenerate the files with ``python -m rtystrat.data.sample data/``; the output is byte-identical.
"""

from __future__ import annotations

import argparse
import gzip
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from pandas.tseries.holiday import USThanksgivingDay

from rtystrat.data.bars import EXCHANGE_TZ, is_intraday, load_bars
from rtystrat.data.calendar import trade_dates
from rtystrat.errors import ParameterError, suggest

__all__ = [
    "DAILY_FILE",
    "MINUTE_FILE",
    "SEED",
    "generate_daily",
    "generate_minute",
    "load_sample",
    "sample_frames",
    "write_sample",
]

SEED = 259  # chosen so that 2025, like the real one, bounces off S2 (February) and breaks to S3 (April)
DAILY_FILE = "rty_sample_daily.csv"
MINUTE_FILE = "rty_sample_1min.csv.gz"
TICKS_PER_POINT = 10  # RTY tick 0.1 point; prices are generated as whole ticks, so they sit on the tick
SESSION_MINUTES = 23 * 60
EARLY_CLOSE_MINUTES = 19 * 60 + 15  # 17:00 to 12:15 the next day
_KINDS = {"daily": DAILY_FILE, "minute": MINUTE_FILE}
_DATA_FOLDER = Path(__file__).resolve().parents[2] / "data"  # the repository's data/, beside rtystrat/

# Regimes: annual drift, annual volatility, mean duration in sessions, and where the chain goes next.
_DRIFT = np.array([0.16, 0.0, -0.60])
_VOLATILITY = np.array([0.16, 0.22, 0.38])
_DURATION = np.array([250.0, 90.0, 40.0])
_NEXT = np.array([[0.0, 0.7, 0.3], [0.6, 0.0, 0.4], [0.5, 0.5, 0.0]])


def generate_daily(
    seed: int = SEED, start: str = "2008-01-02", end: str = "2025-12-31", start_price: float = 750.0
) -> pd.DataFrame:
    """Generate daily RTY-like bars on the CME trade dates from `start` to `end` (inclusive).

    Parameters
    ----------
    seed : int
        Seed of ``numpy.random.default_rng``; the same seed gives the same bars.
    start, end : str
        First and last calendar dates.
    start_price : float
        Price level the first session opens near.

    Returns
    -------
    DataFrame
        Canonical daily bars: tz-naive dates named ``"time"``, float64 ``open, high, low, close`` on the
        0.1 tick and whole-number ``volume``.
    """
    sessions = trade_dates(start, end).rename("time")
    rng = np.random.default_rng(seed)
    count = len(sessions)
    regime = _regimes(rng, count)
    sigma = _VOLATILITY[regime] / np.sqrt(252.0)
    drift = _DRIFT[regime] / 252.0 - 0.5 * sigma**2
    # Student-t shocks scaled to unit variance: var(t_5) = 5 / 3.
    body = drift + sigma * rng.standard_t(5, count) / np.sqrt(5.0 / 3.0)
    days_off = (
        np.diff(sessions.to_numpy(), prepend=sessions.to_numpy()[:1]).astype("timedelta64[D]").astype(int)
    )
    jump = rng.random(count) < 0.01
    gap = 0.15 * sigma * np.sqrt(np.maximum(days_off, 1)) * rng.standard_normal(count)
    gap += jump * rng.normal(-0.01, 0.025, count)
    log_close = np.log(start_price) + np.cumsum(gap + body)
    log_open = log_close - body
    # Running max/min of a Brownian bridge from 0 to `body` with variance sigma²: inverse of its tail.
    reach = body**2 - 2.0 * sigma**2 * np.log(rng.random((2, count)))
    high = log_open + 0.5 * (body + np.sqrt(reach[0]))
    low = log_open + 0.5 * (body - np.sqrt(reach[1]))
    volume = 160_000 * np.exp(0.35 * rng.standard_normal(count)) * (sigma * np.sqrt(252.0) / 0.18) ** 0.8
    volume *= 1.0 + 0.5 * jump
    return pd.DataFrame(
        {
            "open": _on_tick(np.exp(log_open)),
            "high": _on_tick(np.exp(high)),
            "low": _on_tick(np.exp(low)),
            "close": _on_tick(np.exp(log_close)),
            "volume": np.round(volume),
        },
        index=sessions,
    )


def generate_minute(daily: pd.DataFrame, seed: int = SEED + 1) -> pd.DataFrame:
    """Generate 1-minute bars whose futures sessions reproduce the given daily bars exactly.

    The session of day D runs from 17:00 Chicago time on D-1 (Sunday evening for Monday) to 16:00, or to
    12:15 on an early-close day (the day after Thanksgiving, Christmas Eve).

    Parameters
    ----------
    daily : DataFrame
        Daily bars on the 0.1 tick (e.g. a slice of :func:`generate_daily`).
    seed : int
        Seed of ``numpy.random.default_rng``.

    Returns
    -------
    DataFrame
        Canonical 1-minute bars: tz-aware (America/Chicago) bar-start times named ``"time"``.
    """
    rng = np.random.default_rng(seed)
    early = _early_closes(daily.index)
    frames = []
    for day, bar in zip(daily.index, daily.itertuples(index=False), strict=True):
        minutes = EARLY_CLOSE_MINUTES if day in early else SESSION_MINUTES
        opening = pd.Timestamp(day - pd.Timedelta(days=1)).replace(hour=17).tz_localize(EXCHANGE_TZ)
        index = opening + pd.to_timedelta(np.arange(minutes), unit="min")
        frames.append(pd.DataFrame(_session(rng, bar, minutes), index=pd.DatetimeIndex(index, name="time")))
    minute = pd.concat(frames)
    for name in ("open", "high", "low", "close"):
        minute[name] = minute[name] / TICKS_PER_POINT
    return minute


def sample_frames(seed: int = SEED, kinds: Sequence[str] = tuple(_KINDS)) -> dict[str, pd.DataFrame]:
    """Return the sample as shipped: ``{"daily": 2008–2025 daily bars, "minute": 2025 1-minute bars}``.

    `kinds` names the frames to draw: the daily bars alone take a fraction of a second, the minutes (drawn
    inside the daily bars of 2025) seconds.
    """
    daily = generate_daily(seed)
    frames = {"daily": daily}
    if "minute" in kinds:
        frames["minute"] = generate_minute(daily.loc["2025"], seed + 1)
    return {kind: frames[kind] for kind in kinds}


def write_sample(folder: str | Path, seed: int = SEED) -> list[Path]:
    """Write ``rty_sample_daily.csv`` and ``rty_sample_1min.csv.gz`` into `folder`; return their paths.

    The gzip header carries no time stamp or file name, so the bytes depend only on the seed.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for kind, frame in sample_frames(seed).items():
        path = folder / _KINDS[kind]
        text = _to_csv(frame, "date" if kind == "daily" else "time").encode()
        path.write_bytes(gzip.compress(text, compresslevel=6, mtime=0) if path.suffix == ".gz" else text)
        paths.append(path)
    return paths


def load_sample(kind: str = "daily", folder: str | Path | None = None) -> pd.DataFrame:
    """Return the shipped sample as canonical bars, read from `folder` or regenerated in memory.

    Parameters
    ----------
    kind : {"daily", "minute"}
        Daily bars 2008–2025 or 1-minute bars of 2025.
    folder : str or Path, optional
        Where the sample files are; default the repository's ``data/`` folder. When the file is not there
        (an installed package has no ``data/``), the sample is regenerated in memory — same values.
    """
    if kind not in _KINDS:
        raise ParameterError(
            f"kind: unknown sample {kind!r}{suggest(kind, _KINDS)}; choose from {tuple(_KINDS)}"
        )
    path = Path(folder or _DATA_FOLDER) / _KINDS[kind]
    bars = load_bars(path) if path.is_file() else load_bars(sample_frames(SEED, (kind,))[kind])
    bars.attrs["source"] = _KINDS[kind]
    return bars


def _regimes(rng: np.random.Generator, count: int) -> np.ndarray:
    """Simulate the regime Markov chain: leave a regime with probability 1/duration each session."""
    leave = rng.random(count)
    choice = rng.random(count)
    regime = np.empty(count, dtype=np.int64)
    state = 0
    for step in range(count):
        if leave[step] < 1.0 / _DURATION[state]:
            state = int(np.searchsorted(np.cumsum(_NEXT[state]), choice[step], side="right"))
        regime[step] = state
    return regime


def _on_tick(price: np.ndarray) -> np.ndarray:
    """Round to the 0.1 tick; whole ticks divided by ten give the shortest float for each price."""
    return np.round(price * TICKS_PER_POINT) / TICKS_PER_POINT


def _early_closes(days: Iterable[pd.Timestamp]) -> set[pd.Timestamp]:
    days = pd.DatetimeIndex(days)
    thanksgiving = USThanksgivingDay.dates(days.min(), days.max())
    early = {day + pd.Timedelta(days=1) for day in thanksgiving}
    early |= {pd.Timestamp(year, 12, 24) for year in set(days.year)}
    return {day for day in early if day in days}


def _session(rng: np.random.Generator, bar: tuple, minutes: int) -> dict[str, np.ndarray]:
    """Draw one session's minute bars in whole ticks, pinned to the daily open, high, low and close."""
    opening, high, low, close = (round(value * TICKS_PER_POINT) for value in bar[:4])
    path = _pinned_path(rng, opening, high, low, close, minutes)
    opens, closes = path[:-1], path[1:]
    wiggle = rng.geometric(0.6, size=(2, minutes)) - 1
    # Volume: the day's total split over the minutes, heavier at the cash open and close.
    clock = (17 * 60 + np.arange(minutes)) % (24 * 60)
    weight = np.where((clock >= 8 * 60 + 30) & (clock < 15 * 60), 5.0, 1.0)
    weight[(clock >= 8 * 60 + 30) & (clock < 8 * 60 + 45)] = 12.0
    weight[(clock >= 14 * 60 + 45) & (clock < 15 * 60)] = 10.0
    return {
        "open": opens.astype(float),
        "high": np.minimum(np.maximum(opens, closes) + wiggle[0], high).astype(float),
        "low": np.maximum(np.minimum(opens, closes) - wiggle[1], low).astype(float),
        "close": closes.astype(float),
        "volume": rng.multinomial(int(bar[4]), weight / weight.sum()).astype(float),
    }


def _pinned_path(
    rng: np.random.Generator,
    opening: int,
    high: int,
    low: int,
    close: int,
    minutes: int,
    candidates: int = 32,
) -> np.ndarray:
    """Return ``minutes + 1`` tick prices from `opening` to `close` whose max is `high` and min is `low`.

    Draw `candidates` Brownian bridges from open to close, keep the one whose excursions above
    max(open, close) and below min(open, close) are closest (in log ratio) to the day's, then stretch
    those excursions linearly to reach the high and the low exactly. Choosing a close candidate keeps the
    stretch near 1, so minute moves stay of the size the step scale gives.
    """
    top, bottom = max(opening, close), min(opening, close)
    share = np.arange(minutes + 1) / minutes
    steps = rng.standard_normal((candidates, minutes)) * max(high - low, 1) / (1.6 * np.sqrt(minutes))
    walk = np.concatenate([np.zeros((candidates, 1)), np.cumsum(steps, axis=1)], axis=1)
    bridges = opening + (close - opening) * share + walk - walk[:, -1:] * share
    above = bridges[:, 1:-1].max(axis=1) - top
    below = bottom - bridges[:, 1:-1].min(axis=1)
    score = np.abs(np.log1p(np.maximum(above, 0)) - np.log1p(high - top))
    score += np.abs(np.log1p(np.maximum(below, 0)) - np.log1p(bottom - low))
    best = int(np.argmin(score))
    path, above, below = bridges[best], above[best], below[best]
    for limit, reach, side in ((high, above, 1), (low, below, -1)):
        edge = top if side > 0 else bottom
        beyond = side * (path - edge) > 0
        if reach > 0:
            path[beyond] = edge + (path[beyond] - edge) * abs(limit - edge) / reach
        elif limit != edge:  # the bridge never left [bottom, top]: a one-minute wick reaches the extreme
            path[1 + int(np.argmax(side * path[1:-1]))] = limit
    return np.clip(np.round(path), low, high).astype(np.int64)


def _to_csv(frame: pd.DataFrame, time_column: str) -> str:
    """Format bars as CSV text: ISO times (with the UTC offset when tz-aware), prices to the tick.

    Written by hand because pandas' writer takes seconds for a year of minutes; prices are printed from
    whole ticks, so the text is exact whatever the float formatting of the platform.
    """
    index = pd.DatetimeIndex(frame.index)
    local = index.tz_localize(None) if index.tz is not None else index
    stamps = np.datetime_as_string(local.to_numpy(), unit="s" if is_intraday(index) else "D")
    stamps = np.char.replace(stamps, "T", " ").tolist()
    if index.tz is not None:
        minutes = (local.asi8 - index.tz_convert("UTC").tz_localize(None).asi8) // 60_000_000_000
        labels = {
            int(value): f"{'-' if value < 0 else '+'}{abs(value) // 60:02d}:{abs(value) % 60:02d}"
            for value in np.unique(minutes)
        }
        stamps = [stamp + labels[value] for stamp, value in zip(stamps, minutes.tolist(), strict=True)]
    ticks = [
        np.round(frame[name].to_numpy() * TICKS_PER_POINT).astype(np.int64).tolist()
        for name in ("open", "high", "low", "close")
    ]
    volume = frame["volume"].to_numpy().astype(np.int64).tolist()
    rows = (
        f"{stamp},{o // 10}.{o % 10},{h // 10}.{h % 10},{lo // 10}.{lo % 10},{c // 10}.{c % 10},{v}\n"
        for stamp, o, h, lo, c, v in zip(stamps, *ticks, volume, strict=True)
    )
    return f"{time_column},open,high,low,close,volume\n" + "".join(rows)


def main(argv: Sequence[str] | None = None) -> int:
    """Write the sample files into the folder given on the command line."""
    parser = argparse.ArgumentParser(prog="python -m rtystrat.data.sample", description=main.__doc__)
    parser.add_argument("folder", type=Path, help="output folder, e.g. data/")
    parser.add_argument("--seed", type=int, default=SEED, help=f"generator seed (default {SEED})")
    args = parser.parse_args(argv)
    for path in write_sample(args.folder, args.seed):
        print(f"wrote {path} ({path.stat().st_size:,} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
