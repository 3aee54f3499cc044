"""Run settings of a backtest as one frozen, validated, JSON-serialisable dataclass."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from rtystrat.choices import POLICIES
from rtystrat.data.bars import PERIODS
from rtystrat.data.contracts import CONTRACTS, ContractSpec, contract_spec
from rtystrat.errors import ParameterError, suggest
from rtystrat.execution.fills import make_settings

__all__ = ["RunConfig"]


@dataclasses.dataclass(frozen=True, kw_only=True)
class RunConfig:
    """How a backtest executes: contract, account, fill policy, costs, sizing and window.

    Parameters
    ----------
    contract : str or ContractSpec
        A preset symbol (``"RTY"``), a full specification (a :class:`~rtystrat.data.contracts.ContractSpec`,
        ``"symbol=XYZ,multiplier=50,tick=0.1"`` or a ``.toml``/``.json`` file; see
        :func:`rtystrat.data.contracts.contract_spec`). A preset is kept as its symbol, anything else as the
        spec (``to_dict`` writes its fields).
    cash : float
        Starting account value in $.
    fill_policy : {"pessimistic", "optimistic", "ohlc_path", "intraday"}
        What a bar that touches both stop and target means (see :mod:`rtystrat.execution.fills`).
    slippage_ticks : float
        Ticks lost on each market or stop fill (never on limits and targets).
    commission_per_side : float, optional
        $ per contract per side; None takes the contract's default.
    initial_margin : float, optional
        $ per contract needed to open a position; None takes the contract's default.
    contracts : int
        Contracts per trade when `risk_per_trade` is None.
    risk_per_trade : float, optional
        $ risked per trade: ``floor(risk_per_trade / (|entry − stop| × multiplier))`` contracts.
    start, end : str, optional
        ISO dates bounding the traded window (inclusive); indicators still warm up on earlier data.
    timeframe : {None, "D", "W", "M", "Q"}
        Where SMA, RSI and ATR are counted (:func:`rtystrat.signals.features.indicator_frame`): None in the
        traded bars; ``"D"`` in CME sessions, so minute bars trade with daily indicators, each bar holding
        the values of the sessions completed before its own.
    runonce : bool
        backtrader's vectorised mode (True) or bar-by-bar mode (False); results are identical.

    Raises
    ------
    ParameterError
        For an unknown setting (with "did you mean" and the valid names) or an impossible value.

    Examples
    --------
    >>> RunConfig(fill_policy="optimistic", contracts=3).commission
    2.5
    """

    contract: str | ContractSpec = "RTY"
    cash: float = 100_000.0
    fill_policy: str = "pessimistic"
    slippage_ticks: float = 1
    commission_per_side: float | None = None
    initial_margin: float | None = None
    contracts: int = 1
    risk_per_trade: float | None = None
    start: str | None = None
    end: str | None = None
    timeframe: str | None = None
    runonce: bool = True

    def __new__(cls, *args: Any, **settings: Any) -> RunConfig:
        # Checked before the generated __init__, which would reject a misspelt name with a bare TypeError.
        _check_names(settings)
        return super().__new__(cls)

    def __post_init__(self) -> None:
        spec = contract_spec(self.contract)
        object.__setattr__(self, "contract", spec.symbol if CONTRACTS.get(spec.symbol) == spec else spec)
        if self.fill_policy not in POLICIES:
            raise ParameterError(
                f"fill_policy must be one of {', '.join(POLICIES)}, got {self.fill_policy!r}"
                f"{suggest(str(self.fill_policy), POLICIES)}"
            )
        _check_number("cash", self.cash, minimum=0.0, strict=True)
        _check_number("slippage_ticks", self.slippage_ticks, minimum=0.0)
        _check_number("commission_per_side", self.commission_per_side, minimum=0.0, optional=True)
        _check_number("initial_margin", self.initial_margin, minimum=0.0, optional=True)
        _check_number("risk_per_trade", self.risk_per_trade, minimum=0.0, strict=True, optional=True)
        if isinstance(self.contracts, bool) or not isinstance(self.contracts, int | np.integer):
            raise ParameterError(f"contracts must be a whole number >= 1, got {self.contracts!r}")
        if self.contracts < 1:
            raise ParameterError(f"contracts must be a whole number >= 1, got {self.contracts!r}")
        if self.timeframe is not None:
            if str(self.timeframe).upper() not in PERIODS:
                raise ParameterError(
                    f"timeframe must be one of {', '.join(PERIODS)} or None, got {self.timeframe!r}"
                    f"{suggest(str(self.timeframe).upper(), PERIODS)}"
                )
            object.__setattr__(self, "timeframe", str(self.timeframe).upper())
        if not isinstance(self.runonce, bool):
            raise ParameterError(f"runonce must be true or false, got {self.runonce!r}")
        for name in ("start", "end"):
            value = getattr(self, name)
            if value is None:
                continue
            try:
                object.__setattr__(self, name, pd.Timestamp(value).isoformat())
            except (ValueError, TypeError) as error:
                raise ParameterError(f"{name} must be an ISO date, got {value!r}") from error
        if self.start is not None and self.end is not None and self.start > self.end:
            raise ParameterError(f"start {self.start} is after end {self.end}")

    @property
    def spec(self) -> ContractSpec:
        """The contract specification with this run's cost overrides applied."""
        return self.base_spec.with_(commission_per_side=self.commission, initial_margin=self.margin)

    @property
    def base_spec(self) -> ContractSpec:
        """The contract specification before this run's cost overrides."""
        return contract_spec(self.contract)

    @property
    def commission(self) -> float:
        """$ per contract per side in force (the override or the contract's default)."""
        default = self.base_spec.commission_per_side
        return float(default if self.commission_per_side is None else self.commission_per_side)

    @property
    def margin(self) -> float:
        """$ initial margin per contract in force (the override or the contract's default)."""
        default = self.base_spec.initial_margin
        return float(default if self.initial_margin is None else self.initial_margin)

    def fill_settings(self) -> np.ndarray:
        """Return the settings vector of the fill rules
        (:func:`rtystrat.execution.fills.make_settings`)."""
        spec = self.base_spec
        return make_settings(
            policy=self.fill_policy,
            multiplier=spec.multiplier,
            tick_size=spec.tick_size,
            slippage_ticks=float(self.slippage_ticks),
            commission_per_side=self.commission,
            initial_margin=self.margin,
            contracts=int(self.contracts),
            risk_per_trade=self.risk_per_trade,
        )

    def replace(self, **changes: Any) -> RunConfig:
        """Return a copy with `changes` applied (validated like a new config)."""
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """Return the settings as plain JSON-safe data."""
        return {field.name: _plain(getattr(self, field.name)) for field in dataclasses.fields(self)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RunConfig:
        """Build a config from :meth:`to_dict` output (unknown keys are an error)."""
        return cls(**data)


def _check_names(data: Mapping[str, Any]) -> None:
    """Raise ParameterError for a key that is not a setting, with a suggestion and the valid names."""
    names = [field.name for field in dataclasses.fields(RunConfig)]
    for key in data:
        if key not in names:
            raise ParameterError(
                f"unknown run setting {key!r}{suggest(str(key), names)}; valid: {', '.join(names)}"
            )


def _check_number(
    name: str, value: Any, *, minimum: float, strict: bool = False, optional: bool = False
) -> None:
    if value is None and optional:
        return
    valid = (
        isinstance(value, int | float | np.number)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and (value > minimum if strict else value >= minimum)
    )
    if not valid:
        relation = ">" if strict else ">="
        raise ParameterError(f"{name} must be a number {relation} {minimum:g}, got {value!r}")


def _plain(value: Any) -> Any:
    if isinstance(value, ContractSpec):
        return dataclasses.asdict(value)
    return value.item() if isinstance(value, np.generic) else value
