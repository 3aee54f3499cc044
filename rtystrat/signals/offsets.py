"""Price offsets in points, ticks, percent of a price or ATR multiples (pure).

A setup measures its stops, targets and entry bands as distances from a level: the analysis's stop 1,990 is
S2 (2,003) minus 13 points. The same distance can be written in the unit a trader thinks in:

==================================  =====================================================================
text                                distance in points
==================================  =====================================================================
``"13pt"``, ``"13"``, ``13``        13 (a bare number means points)
``"130tick"``, ``"130t"``           130 × the contract's tick size (RTY: 130 × 0.1 = 13)
``"0.5%"``, ``"0.5pct"``            0.5 % of the reference price (at 2,000: 10)
``"1.5atr"``                        1.5 × the ATR column of the bar that decides the plan
==================================  =====================================================================

Offsets are distances, so they are never negative; the setup decides their direction (a long's stop lies
below its level, a short's above).
"""

from __future__ import annotations

import dataclasses
import functools
import math
import re
from typing import Literal, overload

import numpy as np
import numpy.typing as npt

from rtystrat.errors import ParameterError

__all__ = ["OFFSET_FORMS", "Offset", "parse_offset"]

Unit = Literal["pt", "tick", "pct", "atr"]

#: The accepted spellings, for error messages and help texts.
OFFSET_FORMS = (
    "points ('13pt' or 13), ticks ('130tick', '130t'), percent ('0.5%', '0.5pct') or ATR ('1.5atr')"
)

_UNIT_ALIASES: dict[str, Unit] = {
    "": "pt",
    "pt": "pt",
    "pts": "pt",
    "point": "pt",
    "points": "pt",
    "t": "tick",
    "tick": "tick",
    "ticks": "tick",
    "%": "pct",
    "pct": "pct",
    "atr": "atr",
}
_SUFFIX = {"pt": "pt", "tick": "tick", "pct": "%", "atr": "atr"}
_PATTERN = re.compile(r"^\s*([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)\s*([a-zA-Z%]*)\s*$")


@dataclasses.dataclass(frozen=True)
class Offset:
    """A non-negative price distance in one unit.

    Parameters
    ----------
    value : float
        Size in `unit` (finite, ≥ 0).
    unit : {"pt", "tick", "pct", "atr"}
        Points, contract ticks, percent of the reference price, or multiples of the ATR.
    """

    value: float
    unit: Unit = "pt"

    def __post_init__(self) -> None:
        if self.unit not in _SUFFIX:
            raise ParameterError(f"offset unit {self.unit!r} is not one of {sorted(_SUFFIX)}")
        if not math.isfinite(self.value) or self.value < 0:
            raise ParameterError(f"offset {self.value!r} must be a finite distance >= 0")

    def __str__(self) -> str:
        return f"{self.value:g}{_SUFFIX[self.unit]}"

    @property
    def is_zero(self) -> bool:
        """Whether the distance is zero whatever the price, tick or ATR."""
        return self.value == 0

    @overload
    def to_points(self, price: float, atr: float | None = None, tick_size: float | None = None) -> float: ...
    @overload
    def to_points(
        self, price: npt.ArrayLike, atr: npt.ArrayLike | None = None, tick_size: float | None = None
    ) -> float | np.ndarray: ...
    def to_points(
        self, price: npt.ArrayLike, atr: npt.ArrayLike | None = None, tick_size: float | None = None
    ) -> float | np.ndarray:
        """Return the distance in points, element-wise over arrays.

        Parameters
        ----------
        price : float or array
            Reference price for percent offsets (the level the offset is measured from).
        atr : float or array, optional
            Average true range in points, needed for ``atr`` offsets.
        tick_size : float, optional
            Contract tick size in points, needed for ``tick`` offsets.

        Returns
        -------
        float or ndarray
            ``value`` points; ``value × tick_size``; ``value / 100 × price``; or ``value × atr``. A points or
            ticks offset returns a scalar, which broadcasts against any array.
        """
        if self.unit == "pt":
            return float(self.value)
        if self.unit == "tick":
            if tick_size is None or not tick_size > 0:
                raise ParameterError(f"offset {self} needs the contract's tick size (got {tick_size!r})")
            return self.value * float(tick_size)
        if self.unit == "pct":
            return self.value / 100.0 * _as_float(price)
        if atr is None:
            raise ParameterError(f"offset {self} needs an ATR column in the indicator frame")
        return self.value * _as_float(atr)


def _as_float(values: npt.ArrayLike) -> float | np.ndarray:
    return float(values) if np.ndim(values) == 0 else np.asarray(values, dtype=np.float64)


def parse_offset(value: Offset | str | float, *, name: str = "offset") -> Offset:
    """Return `value` as an :class:`Offset`; numbers and strings without a unit mean points.

    Parameters
    ----------
    value : Offset, str, int or float
        ``"13pt"``, ``"13"``, ``13``, ``"130tick"``, ``"130t"``, ``"0.5%"``, ``"0.5pct"``, ``"1.5atr"``, ...
    name : str
        Parameter name used in the error message.

    Raises
    ------
    ParameterError
        One line naming the parameter, the value and the accepted forms, when `value` is not an offset or is
        negative.

    Examples
    --------
    >>> parse_offset("130t").to_points(2000.0, tick_size=0.1)
    13.0
    >>> str(parse_offset(13))
    '13pt'
    """
    if isinstance(value, Offset):
        return value
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ParameterError(f"{name}={value!r} is not an offset; use {OFFSET_FORMS}")
    return _parse_cached(str(value) if isinstance(value, str) else repr(float(value)), name)


@functools.lru_cache(maxsize=1024)
def _parse_cached(text: str, name: str) -> Offset:
    # Sweeps parse the same few strings thousands of times; the cache makes that free.
    match = _PATTERN.match(text)
    unit = _UNIT_ALIASES.get(match.group(2).lower()) if match else None
    if match is None or unit is None:
        raise ParameterError(f"{name}={text!r} is not an offset; use {OFFSET_FORMS}")
    number = float(match.group(1))
    if not math.isfinite(number) or number < 0:
        raise ParameterError(f"{name}={text!r}: an offset is a distance and must be >= 0; use {OFFSET_FORMS}")
    return Offset(number, unit)
