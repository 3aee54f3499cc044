"""The closed sets of names a setting accepts: data repairs, pivot periods and methods, fill policies.

Import-free on purpose: the command line lists these in its help and its argument checks without loading
numpy, pandas or numba, so ``rtystrat --help`` starts at once. The modules that act on a name import its set
from here, so each list exists once.
"""

from __future__ import annotations

__all__ = ["PERIODS", "PIVOT_METHODS", "POLICIES", "REPAIRS"]

#: Repairs ``load_bars(repair=...)`` applies on request (:mod:`rtystrat.data.bars`).
REPAIRS: tuple[str, ...] = ("drop", "clip", "drop_weekend", "sort", "zero_volume")
#: Periods of resampling and of pivot levels: CME session day, week, month, quarter.
PERIODS: tuple[str, ...] = ("D", "W", "M", "Q")
#: Pivot formulas (:mod:`rtystrat.signals.levels`).
PIVOT_METHODS: tuple[str, ...] = ("classic", "fibonacci", "camarilla", "woodie", "demark")
#: What a bar that touches both stop and target means (:mod:`rtystrat.execution.fills`); the position in this
#: tuple is the policy's code in the compiled state machine.
POLICIES: tuple[str, ...] = ("pessimistic", "optimistic", "ohlc_path", "intraday")
