"""Futures contract specifications, tick rounding and the expiry calendar of equity-index futures.

A :class:`ContractSpec` holds what turns points into dollars (multiplier, tick size) and what a trade costs
(commission per side, initial margin). The presets cover the CME/CBOT equity-index E-minis and their micros.
Their contract terms (multiplier, tick size, listed months, expiry rule) are exchange facts; their costs are
assumptions to override with your own broker's figures::

    spec = get_contract("RTY").with_(commission_per_side=1.75, initial_margin=8_000.0)

Cost assumptions (per contract):

- ``commission_per_side``: a typical retail all-in figure (broker + exchange + NFA fees) — 2.50 $ for an
  E-mini, 0.85 $ for a micro.
- ``initial_margin``: indicative CME initial margins as of April 2025 (ES 12,650 $, NQ 19,800 $, RTY about
  7,000 $, YM about 10,500 $; micros one tenth). Exchanges change margins often and brokers may ask more.

Expiry rule: equity-index futures stop trading on the third Friday of the contract month (RTY, ES, NQ and
their micros settle on that morning's special opening quotation; YM likewise), or on the trade date before
when that Friday is not a trade date. Trade dates come from a maintained exchange calendar with CME's own
corrections (:mod:`rtystrat.data.calendar`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import decimal
import functools
import json
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal, overload

import numpy as np
import numpy.typing as npt
import pandas as pd

from rtystrat.data.calendar import business_day
from rtystrat.errors import ParameterError, suggest

__all__ = [
    "CONTRACTS",
    "MONTH_CODES",
    "ContractSpec",
    "contract_code",
    "contract_spec",
    "expiry_date",
    "get_contract",
    "parse_contract_code",
    "parse_contract_file_name",
    "roll_date",
    "round_to_tick",
]

#: Futures month letters, January (F) to December (Z).
MONTH_CODES: Mapping[str, int] = {code: month for month, code in enumerate("FGHJKMNQUVXZ", start=1)}
_CODE_OF_MONTH = {month: code for code, month in MONTH_CODES.items()}


@dataclasses.dataclass(frozen=True, kw_only=True)
class ContractSpec:
    """Terms and cost assumptions of one futures contract.

    Parameters
    ----------
    symbol : str
        Root symbol, e.g. ``"RTY"``.
    name : str
        Human-readable name.
    exchange : str
        Listing exchange (``"CME"``, ``"CBOT"``).
    multiplier : float
        Dollars per index point.
    tick_size : float
        Minimum price increment in points.
    commission_per_side : float
        Dollars per contract per side (entry or exit); an assumption, override it.
    initial_margin : float
        Dollars per contract needed to open a position; indicative, override it.
    months : str
        Listed contract months as month letters, ``"HMUZ"`` for the quarterly cycle.
    currency : str
        Currency of prices and costs.
    """

    symbol: str
    name: str
    exchange: str = "CME"
    multiplier: float
    tick_size: float
    commission_per_side: float
    initial_margin: float
    months: str = "HMUZ"
    currency: str = "USD"

    def __post_init__(self) -> None:
        for field in ("multiplier", "tick_size"):
            if not getattr(self, field) > 0:
                raise ParameterError(f"{self.symbol}: {field} must be > 0, got {getattr(self, field)!r}")
        for field in ("commission_per_side", "initial_margin"):
            if not getattr(self, field) >= 0:
                raise ParameterError(f"{self.symbol}: {field} must be >= 0, got {getattr(self, field)!r}")
        unknown = sorted(set(self.months) - set(MONTH_CODES))
        if not self.months or unknown:
            raise ParameterError(
                f"{self.symbol}: months must be letters from {''.join(MONTH_CODES)}, got {self.months!r}"
            )

    @property
    def tick_value(self) -> float:
        """Dollars per tick per contract: ``multiplier × tick_size``."""
        return self.multiplier * self.tick_size

    def with_(self, **changes: Any) -> ContractSpec:
        """Return a copy with `changes` applied (validated like a new spec).

        Examples
        --------
        >>> get_contract("RTY").with_(commission_per_side=1.5).commission_per_side
        1.5
        """
        return dataclasses.replace(self, **changes)


def _preset(
    symbol: str, name: str, exchange: str, multiplier: float, tick_size: float, margin: float
) -> ContractSpec:
    # Micros cost less per side; the split mirrors typical retail fee schedules (see module docstring).
    commission = 0.85 if name.startswith("Micro") else 2.50
    return ContractSpec(
        symbol=symbol,
        name=name,
        exchange=exchange,
        multiplier=multiplier,
        tick_size=tick_size,
        commission_per_side=commission,
        initial_margin=margin,
    )


#: Preset specifications by root symbol.
CONTRACTS: Mapping[str, ContractSpec] = {
    spec.symbol: spec
    for spec in (
        _preset("RTY", "E-mini Russell 2000", "CME", 50.0, 0.1, 7_000.0),
        _preset("M2K", "Micro E-mini Russell 2000", "CME", 5.0, 0.1, 700.0),
        _preset("ES", "E-mini S&P 500", "CME", 50.0, 0.25, 12_650.0),
        _preset("MES", "Micro E-mini S&P 500", "CME", 5.0, 0.25, 1_265.0),
        _preset("NQ", "E-mini Nasdaq-100", "CME", 20.0, 0.25, 19_800.0),
        _preset("MNQ", "Micro E-mini Nasdaq-100", "CME", 2.0, 0.25, 1_980.0),
        _preset("YM", "E-mini Dow ($5)", "CBOT", 5.0, 1.0, 10_500.0),
        _preset("MYM", "Micro E-mini Dow", "CBOT", 0.5, 1.0, 1_050.0),
    )
}


def get_contract(symbol: str) -> ContractSpec:
    """Return the preset specification of `symbol` (case-insensitive).

    Raises
    ------
    ParameterError
        For an unknown symbol, listing the valid ones with a suggestion.
    """
    key = symbol.strip().upper()
    if key not in CONTRACTS:
        raise ParameterError(
            f"unknown contract {symbol!r}{suggest(key, CONTRACTS)}; valid: {', '.join(CONTRACTS)}"
        )
    return CONTRACTS[key]


# Short names a spec may use on the command line (``tick=0.1``) for the fields of ContractSpec.
_SPEC_ALIASES = {"tick": "tick_size", "commission": "commission_per_side", "margin": "initial_margin"}
_SPEC_FIELDS = tuple(field.name for field in dataclasses.fields(ContractSpec))
_NUMBER_FIELDS = ("multiplier", "tick_size", "commission_per_side", "initial_margin")


def contract_spec(contract: str | Path | Mapping[str, Any] | ContractSpec) -> ContractSpec:
    """Return the specification `contract` names or describes.

    Parameters
    ----------
    contract : str, Path, mapping or ContractSpec
        A preset symbol (``"ES"``); fields as ``"symbol=XYZ,multiplier=50,tick=0.1,commission=2.5"``; a
        ``.toml`` or ``.json`` file of those fields; or a mapping of them. Field names are those of
        :class:`ContractSpec`, or ``tick``, ``commission`` and ``margin`` for short. Fields not given come
        from the preset of the same symbol; for a symbol without a preset, ``multiplier`` and ``tick`` are
        required, ``name`` is the symbol and commission and margin are 0.

    Raises
    ------
    ParameterError
        One line naming the unknown field (with a suggestion), the missing one, or the bad value.

    Examples
    --------
    >>> contract_spec("symbol=RTY,commission=1.75").commission_per_side
    1.75
    >>> contract_spec("symbol=RTYX,multiplier=50,tick=0.1").tick_value
    5.0
    """
    if isinstance(contract, ContractSpec):
        return contract
    if isinstance(contract, Mapping):
        return _spec_from_fields(dict(contract), "contract")
    text = str(contract).strip()
    if text.lower().endswith((".toml", ".json")):
        return _spec_from_fields(_read_spec_file(Path(text)), text)
    if "=" in text:
        fields = {}
        for item in text.split(","):
            key, sep, value = item.partition("=")
            if not sep or not key.strip():
                raise ParameterError(f"contract {text!r}: expected KEY=VALUE pairs, got {item!r}")
            fields[key.strip()] = value.strip()
        return _spec_from_fields(fields, f"contract {text!r}")
    return get_contract(text)


def _read_spec_file(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise FileNotFoundError(f"contract file {str(path)!r} is not a file")
    try:
        if path.suffix.lower() == ".toml":
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        else:
            data = json.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, json.JSONDecodeError) as error:
        raise ParameterError(f"{path}: not a valid contract file ({error})") from None
    if not isinstance(data, dict):
        raise ParameterError(f"{path}: a contract file holds fields like symbol, multiplier, tick")
    return data


def _spec_from_fields(fields: dict[str, Any], where: str) -> ContractSpec:
    given: dict[str, Any] = {}
    for key, value in fields.items():
        name = _SPEC_ALIASES.get(str(key).lower(), str(key).lower())
        if name not in _SPEC_FIELDS:
            valid = sorted({*_SPEC_FIELDS, *_SPEC_ALIASES})
            raise ParameterError(
                f"{where}: unknown field {key!r}{suggest(str(key), valid)}; valid: {', '.join(valid)}"
            )
        if name in _NUMBER_FIELDS:
            try:
                value = float(value)
            except (TypeError, ValueError):
                raise ParameterError(f"{where}: {key} must be a number, got {value!r}") from None
        given[name] = value
    if "symbol" not in given:
        raise ParameterError(f"{where}: symbol is required (e.g. symbol=RTY)")
    given["symbol"] = str(given["symbol"]).strip().upper()
    preset = CONTRACTS.get(given["symbol"])
    if preset is not None:
        return preset.with_(**given)
    missing = [name for name in ("multiplier", "tick_size") if name not in given]
    if missing:
        raise ParameterError(
            f"{where}: {given['symbol']} is not a preset ({', '.join(CONTRACTS)}), so "
            f"{' and '.join('tick' if name == 'tick_size' else name for name in missing)} must be given"
        )
    return ContractSpec(
        **{"name": given["symbol"], "commission_per_side": 0.0, "initial_margin": 0.0, **given}
    )


# --- tick rounding -------------------------------------------------------------------------------------

# Prices like 2003.5 - 13.37 land a hair off the tick grid; a tolerance of a millionth of a tick absorbs
# that float noise without ever moving a price that is genuinely between two ticks.
_TICK_EPSILON = 1e-6
RoundingMode = Literal["nearest", "up", "down"]
_ROUNDING_MODES = ("nearest", "up", "down")


@overload
def round_to_tick(price: float, tick_size: float, mode: RoundingMode = "nearest") -> float: ...
@overload
def round_to_tick(price: npt.ArrayLike, tick_size: float, mode: RoundingMode = "nearest") -> np.ndarray: ...
def round_to_tick(
    price: float | npt.ArrayLike, tick_size: float, mode: RoundingMode = "nearest"
) -> float | np.ndarray:
    """Round `price` to a multiple of `tick_size`.

    Parameters
    ----------
    price : float or array-like
        Price(s) in points; NaN stays NaN.
    tick_size : float
        Tick in points (> 0).
    mode : {"nearest", "up", "down"}
        ``"nearest"`` rounds half a tick up; ``"up"``/``"down"`` round towards +∞/−∞ — e.g. a long's stop
        rounds down (away from the market, the conservative side), a short's stop rounds up.

    Returns
    -------
    float or numpy.ndarray
        A float for a scalar input, else an array; values are clean decimals (``1990.1``, not
        ``1990.1000000000001``).

    Notes
    -----
    With ``n = price / tick_size``: down ``floor(n + ε)``, up ``ceil(n − ε)``, nearest ``floor(n + ½ + ε)``,
    ``ε = 1e-6`` ticks, so a price within float noise of a tick counts as on it.

    Examples
    --------
    >>> round_to_tick(2003.5 - 13.37, 0.1, "down"), round_to_tick(2003.5 - 13.37, 0.1, "up")
    (1990.1, 1990.2)
    >>> round_to_tick(1990.0000000001, 0.1, "up")
    1990.0
    """
    if mode not in _ROUNDING_MODES:
        raise ParameterError(
            f"mode must be one of {', '.join(_ROUNDING_MODES)}, got {mode!r}{suggest(mode, _ROUNDING_MODES)}"
        )
    if not tick_size > 0:
        raise ParameterError(f"tick_size must be > 0, got {tick_size!r}")
    ticks = np.asarray(price, dtype=np.float64) / tick_size
    if mode == "down":
        whole = np.floor(ticks + _TICK_EPSILON)
    elif mode == "up":
        whole = np.ceil(ticks - _TICK_EPSILON)
    else:
        whole = np.floor(ticks + 0.5 + _TICK_EPSILON)
    rounded = np.round(whole * tick_size, _tick_decimals(tick_size))
    return float(rounded) if rounded.ndim == 0 else rounded


@functools.cache
def _tick_decimals(tick_size: float) -> int:
    """Decimal places of a tick (0.1 → 1, 0.25 → 2, 1.0 → 0), to print clean prices."""
    exponent = decimal.Decimal(repr(tick_size)).normalize().as_tuple().exponent
    return max(0, -int(exponent))


# --- contract months, codes and the expiry calendar ------------------------------------------------------


def contract_code(root: str, year: int, month: int) -> str:
    """Return the exchange code of a contract: root, month letter, two-digit year.

    Examples
    --------
    >>> contract_code("RTY", 2025, 6)
    'RTYM25'
    """
    if month not in _CODE_OF_MONTH:
        raise ParameterError(f"month must be 1..12, got {month!r}")
    return f"{root.upper()}{_CODE_OF_MONTH[month]}{year % 100:02d}"


_CODE_PATTERN = re.compile(r"^([A-Za-z0-9]+?)([FGHJKMNQUVXZ])(\d{2}|\d{4})$")
_FILE_PATTERN = re.compile(r"^([A-Za-z0-9]+)_(\d{4})(\d{2})(?:\.[A-Za-z0-9.]+)?$")


def parse_contract_code(code: str) -> tuple[str, int, int]:
    """Split a contract code (``"RTYM25"`` or ``"RTYM2025"``) into ``(root, year, month)``.

    Two-digit years are read as 20YY.
    """
    match = _CODE_PATTERN.match(code.strip())
    if not match:
        raise ParameterError(f"not a contract code like 'RTYM25': {code!r}")
    root, letter, year = match.groups()
    return root.upper(), int(year) if len(year) == 4 else 2000 + int(year), MONTH_CODES[letter]


def parse_contract_file_name(name: str) -> tuple[str, int, int]:
    """Split a per-contract file name ``<ROOT>_<YYYYMM>[.ext]`` into ``(root, year, month)``.

    Examples
    --------
    >>> parse_contract_file_name("RTY_202609.csv")
    ('RTY', 2026, 9)
    """
    match = _FILE_PATTERN.match(name.strip())
    if not match or not 1 <= int(match.group(3)) <= 12:
        raise ParameterError(f"not a contract file name like 'RTY_202609.csv': {name!r}")
    root, year, month = match.groups()
    return root.upper(), int(year), int(month)


def expiry_date(symbol: str, year: int, month: int) -> dt.date:
    """Return the last trading day of an equity-index futures contract.

    The third Friday of the contract month, or the trade date before when that Friday is not one
    (:func:`rtystrat.data.calendar.trade_dates`).

    Examples
    --------
    >>> expiry_date("RTY", 2025, 3)
    datetime.date(2025, 3, 21)
    """
    spec = get_contract(symbol)
    if _CODE_OF_MONTH.get(month) not in spec.months:
        raise ParameterError(
            f"{spec.symbol} lists no contract in month {month!r} (listed months: {spec.months})"
        )
    first = dt.date(year, month, 1)
    # weekday(): Monday 0 … Friday 4; the first Friday plus two weeks.
    third_friday = first + dt.timedelta(days=(4 - first.weekday()) % 7 + 14)
    day = pd.Timestamp(third_friday)
    return day.date() if business_day().is_on_offset(day) else (day - business_day()).date()


def roll_date(symbol: str, year: int, month: int, business_days_before: int = 5) -> dt.date:
    """Return the date `business_days_before` trade dates before the contract's expiry.

    ``business_days_before=0`` is the expiry itself.

    Examples
    --------
    >>> roll_date("RTY", 2025, 3, business_days_before=5)
    datetime.date(2025, 3, 14)
    """
    if business_days_before < 0:
        raise ParameterError(f"business_days_before must be >= 0, got {business_days_before!r}")
    expiry = pd.Timestamp(expiry_date(symbol, year, month))
    return (expiry - business_days_before * business_day()).date()
