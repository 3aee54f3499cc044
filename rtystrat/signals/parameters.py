"""Declared setup parameters: name, default, type, units, documentation and source, validated in one place.

A setup declares its parameters once, as a :class:`Parameters` table of :class:`Parameter` entries. The
table gives the defaults, converts text from the command line (``--param stop_offset=20pt``), rejects
unknown names with a suggestion and impossible values with a one-line
:class:`~rtystrat.errors.ParameterError`, and documents every parameter with the sentence of the analysis
its default comes from.

Validated values are plain JSON data (offsets as canonical strings such as ``"13pt"``), so a run's
parameters serialise with its result and a sweep can key its store on them.
"""

from __future__ import annotations

import collections
import dataclasses
import math
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, Literal

import pandas as pd

from rtystrat.errors import ParameterError, suggest
from rtystrat.signals.offsets import OFFSET_FORMS, parse_offset
from rtystrat.signals.targets import format_targets, parse_targets

__all__ = ["Parameter", "Parameters"]

Kind = Literal["offset", "float", "int", "bool", "choice", "targets"]
Check = Callable[[Mapping[str, Any], str], None]

_TRUE = ("true", "yes", "1", "on")
_FALSE = ("false", "no", "0", "off")


@dataclasses.dataclass(frozen=True, kw_only=True)
class Parameter:
    """One declared parameter of a setup.

    Parameters
    ----------
    name : str
        Keyword the setup function takes.
    default : Any
        Default value (already valid).
    kind : {"offset", "float", "int", "bool", "choice", "targets"}
        Value type. ``"offset"`` accepts :mod:`rtystrat.signals.offsets` forms and, when `choices` is given,
        also those words (the bullish target: ``"pivot"``, ``"mid"``, ``"r1"`` or an offset such as
        ``"150pt"``). ``"targets"`` is a scale-out list such as ``"mid:1,pivot:1"`` whose items are those
        words or offsets with a share (:mod:`rtystrat.signals.targets`).
    doc : str
        What the parameter does.
    source : str
        The sentence of the analysis the default comes from ("" when the default is a choice of this library).
    units : str
        Units of a number (``"sessions"``, ``"points"``); offsets carry their own.
    choices : tuple of str
        Allowed words for ``"choice"`` (and optional words for ``"offset"``).
    minimum, maximum : float, optional
        Inclusive bounds of a number.
    positive : bool
        Reject zero (a number, or an offset of zero distance).
    optional : bool
        ``None`` (text ``"none"``) is allowed and switches the feature off.
    """

    name: str
    default: Any
    kind: Kind
    doc: str
    source: str = ""
    units: str = ""
    choices: tuple[str, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    positive: bool = False
    optional: bool = False

    def __post_init__(self) -> None:
        # A declaration with an invalid default is a programming error; catch it at import.
        object.__setattr__(self, "default", self.convert(self.default))

    def convert(self, value: Any, *, owner: str = "") -> Any:
        """Return `value` validated and in canonical form (text from a command line is accepted).

        Raises
        ------
        ParameterError
            One line naming the parameter, the value and what is accepted.
        """
        label = f"{owner}: {self.name}" if owner else self.name
        is_none = value is None or (
            self.optional and isinstance(value, str) and value.strip().lower() == "none"
        )
        if is_none:
            if self.optional:
                return None
            raise ParameterError(f"{label}=None is not allowed; expected {self.expected()}")
        if self.kind == "offset":
            return self._offset(value, label)
        if self.kind == "targets":
            return format_targets(parse_targets(value, words=self.choices, name=label))
        if self.kind == "choice":
            return self._choice(value, label)
        if self.kind == "bool":
            return self._bool(value, label)
        return self._number(value, label)

    def expected(self) -> str:
        """Describe the accepted values in a few words (for errors and ``--help``)."""
        if self.kind == "choice":
            text = "one of " + ", ".join(repr(choice) for choice in self.choices)
        elif self.kind == "offset":
            text = ", ".join(repr(choice) for choice in self.choices)
            text = f"{text} or an offset in {OFFSET_FORMS}" if text else f"an offset in {OFFSET_FORMS}"
        elif self.kind == "targets":
            words = ", ".join(repr(choice) for choice in self.choices)
            text = f"targets such as 'mid:1,pivot:1', each {words} or an offset, ':share' optional"
        elif self.kind == "bool":
            text = "true or false"
        else:
            text = "an integer" if self.kind == "int" else "a number"
            bounds = ["> 0"] if self.positive else []
            bounds += [f">= {self.minimum:g}"] if self.minimum is not None else []
            bounds += [f"<= {self.maximum:g}"] if self.maximum is not None else []
            text += (" " + " and ".join(bounds)) if bounds else ""
        return text + (" or none" if self.optional else "")

    def _offset(self, value: Any, label: str) -> str:
        if isinstance(value, str) and value.strip().lower() in self.choices:
            return value.strip().lower()
        try:
            offset = parse_offset(value, name=label)
        except ParameterError:
            magnitude = _magnitude_of_negative(value)
            if magnitude is not None:
                # "-5" is the commonest slip: say what is wrong rather than list every form again
                raise ParameterError(
                    f"{label}={value!r} is negative: offsets are distances >= 0 and the setup sets their "
                    f"side (try {magnitude!r})"
                ) from None
            hint = suggest(value, self.choices) if isinstance(value, str) else ""
            raise ParameterError(
                f"{label}={value!r} is not valid; expected {self.expected()}{hint}"
            ) from None
        if self.positive and offset.is_zero:
            raise ParameterError(f"{label}={value!r}: the distance must be > 0")
        return str(offset)

    def _choice(self, value: Any, label: str) -> str:
        text = str(value).strip().lower() if isinstance(value, str) else value
        if text not in self.choices:
            hint = suggest(str(value), self.choices)
            raise ParameterError(f"{label}={value!r} is not valid; expected {self.expected()}{hint}")
        return text

    def _bool(self, value: Any, label: str) -> bool:
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in _TRUE or text in _FALSE:
            return text in _TRUE
        raise ParameterError(f"{label}={value!r} is not valid; expected {self.expected()}")

    def _number(self, value: Any, label: str) -> int | float:
        try:
            if isinstance(value, bool):
                raise ValueError
            number = float(value.strip() if isinstance(value, str) else value)
            if self.kind == "int":
                if not number.is_integer():
                    raise ValueError
                number = int(number)
                if abs(number) > _LARGEST_INT:  # compiled code holds integers in 64 bits
                    raise ParameterError(
                        f"{label}={value!r} is out of range; expected {self.expected()} of at most "
                        f"{_LARGEST_INT:,}"
                    )
        except (TypeError, ValueError, OverflowError):
            raise ParameterError(f"{label}={value!r} is not valid; expected {self.expected()}") from None
        too_low = self.minimum is not None and number < self.minimum
        too_high = self.maximum is not None and number > self.maximum
        if not math.isfinite(number) or too_low or too_high or (self.positive and number <= 0):
            raise ParameterError(f"{label}={value!r} is out of range; expected {self.expected()}")
        return number


_LARGEST_INT = 2**31 - 1


def _memo_key(values: Mapping[str, Any]) -> tuple[Any, ...] | None:
    """Return a hashable key of `values` that tells apart values equal across types (True, 1, 1.0 — not
    every type converts alike); None when a value is unhashable."""
    key = tuple((name, type(value), value) for name, value in values.items())
    try:
        hash(key)
    except TypeError:
        return None
    return key


def _magnitude_of_negative(value: Any) -> str | None:
    """Return the offset text without its minus sign when `value` is a negative offset, else None."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return None
    text = value.strip() if isinstance(value, str) else repr(value)
    if not text.startswith("-"):
        return None
    try:
        return str(parse_offset(text[1:]))
    except ParameterError:
        return None


class Parameters(Mapping[str, Parameter]):
    """The declared parameters of one setup, in declaration order (an immutable mapping name → Parameter).

    Parameters
    ----------
    parameters : iterable of Parameter
        Declarations; names must be unique.
    check : callable, optional
        ``check(values, owner)`` runs after each value is valid on its own and raises
        :class:`ParameterError` for impossible combinations (a target on the wrong side of the entry).
    """

    def __init__(self, parameters: Iterable[Parameter], check: Check | None = None) -> None:
        self._check = check
        self._parameters: dict[str, Parameter] = {}
        # validate()'s recent results: a sweep validates each combination, then the setup validates the
        # result again (it cannot tell a validated dict from a user's), which cost more than its plans.
        self._known: collections.OrderedDict[tuple[Any, ...], dict[str, Any]] = collections.OrderedDict()
        self._defaults_canonical: bool | None = None
        for parameter in parameters:
            if parameter.name in self._parameters:
                raise ValueError(f"parameter {parameter.name!r} declared twice")
            self._parameters[parameter.name] = parameter

    def __getitem__(self, name: str) -> Parameter:
        return self._parameters[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._parameters)

    def __len__(self) -> int:
        return len(self._parameters)

    def __repr__(self) -> str:
        return f"Parameters({self.defaults()!r})"

    def defaults(self) -> dict[str, Any]:
        """Return ``{name: default}`` in declaration order."""
        return {name: parameter.default for name, parameter in self._parameters.items()}

    def with_defaults(self, **defaults: Any) -> Parameters:
        """Return a copy whose defaults for the given names are replaced (validated), e.g. in a recipe."""
        self.check_names(defaults)
        replaced = Parameters(
            (
                dataclasses.replace(parameter, default=defaults.get(name, parameter.default))
                for name, parameter in self._parameters.items()
            ),
            self._check,
        )
        replaced.validate()
        return replaced

    def check_names(self, names: Iterable[str], *, owner: str = "") -> None:
        """Raise :class:`ParameterError` for the first name that is not declared, with a suggestion."""
        for name in names:
            if name not in self._parameters:
                where = f"{owner}: " if owner else ""
                valid = ", ".join(self._parameters)
                raise ParameterError(
                    f"{where}unknown parameter {name!r}{suggest(name, self._parameters)}; valid: {valid}"
                )

    def validate(self, values: Mapping[str, Any] | None = None, *, owner: str = "") -> dict[str, Any]:
        """Return every parameter's value: the defaults overridden by `values`, validated and canonical.

        Parameters
        ----------
        values : mapping, optional
            Overrides by name; text values (from a command line) are converted.
        owner : str
            Setup or strategy name used in error messages.

        Raises
        ------
        ParameterError
            For an unknown name (with "did you mean" and the valid names) or an invalid value.
        """
        values = dict(values or {})
        key = _memo_key(values)
        known = self._known.get(key) if key is not None else None
        if known is not None:
            return dict(known)
        self.check_names(values, owner=owner)
        resolved = self.defaults()
        for name, value in values.items():
            resolved[name] = self._parameters[name].convert(value, owner=owner)
        if self._check is not None:
            self._check(resolved, owner)
        if key is not None:
            self._remember(key, resolved)
            if self._canonical_defaults():
                # every value is canonical, and converting a canonical value returns it: validating
                # `resolved` again gives `resolved` (the setup's call on the sweep's result)
                self._remember(_memo_key(resolved), resolved)
        return resolved

    _KNOWN_KEPT = 1024  # validate() results kept (two per new combination)

    def _remember(self, key: tuple[Any, ...] | None, resolved: dict[str, Any]) -> None:
        if key is None:
            return
        self._known[key] = dict(resolved)
        while len(self._known) > self._KNOWN_KEPT:
            try:
                self._known.popitem(last=False)
            except KeyError:  # another thread emptied it first
                break

    def _canonical_defaults(self) -> bool:
        """Whether every default is its own canonical form (validate's result is then validate's fixed
        point); computed once."""
        if self._defaults_canonical is None:
            canonical = True
            for parameter in self._parameters.values():
                try:
                    converted = parameter.convert(parameter.default)
                except ParameterError:
                    canonical = False
                    break
                if _memo_key({"": converted}) != _memo_key({"": parameter.default}):
                    canonical = False
                    break
            self._defaults_canonical = canonical
        return self._defaults_canonical

    def describe(self) -> pd.DataFrame:
        """Return a table of the parameters (default, accepted values, units, doc, source), one row each."""
        rows = [
            {
                "name": parameter.name,
                "default": parameter.default,
                "accepts": parameter.expected(),
                "units": parameter.units,
                "doc": parameter.doc,
                "source": parameter.source,
            }
            for parameter in self._parameters.values()
        ]
        return pd.DataFrame(rows).set_index("name")
