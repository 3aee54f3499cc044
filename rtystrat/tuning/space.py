"""Parameter spaces for sweeps: grids, lists, seeded random samples and constraints (pure).

Grid syntax, one axis per ``name=spec`` (the CLI's ``--grid``):

==========================  ===========================================================================
spec                        values
==========================  ===========================================================================
``5:40:5``                  5, 10, ..., 40 — ``start:stop:step`` with the stop **included**, as a
                            trader reads it; decimal-exact (``0.1:0.3:0.1`` gives 0.1, 0.2, 0.3)
``5:40:5pt``                "5pt", "10pt", ..., "40pt" — a unit suffix on the spec (or on every part,
                            as in ``5pt:40pt:5pt``) keeps the values as offset strings (``pt``,
                            ``tick``, ``%``, ``atr``)
``pivot,mid,r1``            a list; items are numbers, ``true``/``false``, ``none`` or text
``pivot;mid:1,pivot:1``     a list separated by ``;``, for values that hold commas or colons themselves
                            (scale-out targets); a spec with both ``:`` and ``,`` but no ``;`` is one
                            such value (``targets=mid:1,pivot:1``)
``10``                      one fixed value
==========================  ===========================================================================

Constraints are callables ``params -> bool`` or simple expressions over parameter names such as
``"target_offset > stop_offset"`` or ``"stop_offset * 2 <= target_offset and max_hold >= 5"``. Expressions are
parsed with :mod:`ast` and evaluated by a small interpreter that knows only names, numbers, strings,
``+ - * /``, comparisons, ``and``/``or``/``not`` — never ``eval``. Offset strings compare by magnitude when
their units agree (``"13pt" < "40pt"``); comparing different units is an error.
"""

from __future__ import annotations

import ast
import itertools
import math
import operator
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

import numpy as np

from rtystrat.errors import ParameterError

__all__ = ["MAX_RUNS_WITHOUT_CONFIRMATION", "ParameterSpace", "parse_constraint", "parse_grid", "parse_spec"]

#: Sweeps with more runs than this need an explicit ``yes=True`` (CLI ``--yes``): a typo in a step can
#: otherwise start months of computing.
MAX_RUNS_WITHOUT_CONFIRMATION = 1_000_000

_UNIT = re.compile(r"^([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)\s*([a-zA-Z%]*)$")
# Spellings of one unit compare as equal; the setup's declared parameters validate the unit itself.
_UNIT_NAMES = {"pts": "pt", "point": "pt", "points": "pt", "t": "tick", "ticks": "tick", "pct": "%"}

Constraint = Callable[[Mapping[str, Any]], bool]


def _split_unit(text: str, context: str) -> tuple[Decimal, str]:
    match = _UNIT.match(text.strip())
    if not match:
        raise ParameterError(f"{context}: {text!r} is not a number with an optional unit (pt, tick, %, atr)")
    return Decimal(match.group(1)), match.group(2).lower()


def _number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() and "." not in str(value) else float(value)


def _scalar(token: str) -> Any:
    """Turn one list item into a number, bool, None or (stripped) text."""
    text = token.strip()
    lowered = text.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if lowered == "none":
        return None
    try:
        return _number(Decimal(text))
    except InvalidOperation:
        return text


def _range(name: str, spec: str) -> list[Any]:
    parts = spec.split(":")
    if len(parts) != 3:
        raise ParameterError(f"grid {name}={spec!r}: a range is start:stop:step, e.g. {name}=5:40:5")
    trailing = re.match(r"^.*?([a-zA-Z%]*)$", parts[2].strip()).group(1).lower()  # "5:40:5pt" → unit "pt"
    numbers, units = zip(*(_split_unit(part, f"grid {name}={spec!r}") for part in parts), strict=True)
    unit_set = {_UNIT_NAMES.get(unit, unit) for unit in units if unit}
    if len(unit_set) > 1 or (unit_set and _UNIT_NAMES.get(trailing, trailing) not in unit_set):
        raise ParameterError(f"grid {name}={spec!r}: mixed units {sorted(unit_set)}; write e.g. 5:40:5pt")
    unit = trailing
    start, stop, step = numbers
    if step <= 0:
        raise ParameterError(f"grid {name}={spec!r}: the step must be positive")
    if stop < start:
        raise ParameterError(f"grid {name}={spec!r}: the stop {stop} is below the start {start}")
    count = int((stop - start) / step) + 1
    # Decimal arithmetic keeps 0.1:0.3:0.1 exact and the stop included.
    decimals = [start + step * i for i in range(count)]
    if unit:
        return [f"{value.normalize():f}{unit}" for value in decimals]
    integral = all(value == value.to_integral_value() for value in (start, step))
    return [int(value) if integral else float(value) for value in decimals]


def parse_spec(name: str, spec: str) -> list[Any]:
    """Return the values of one grid axis from its text `spec` (see the module docstring for the syntax).

    Examples
    --------
    >>> parse_spec("stop_offset", "5:20:5")
    [5, 10, 15, 20]
    >>> parse_spec("stop_offset", "0.5:1.5:0.5atr")
    ['0.5atr', '1atr', '1.5atr']
    >>> parse_spec("target", "pivot,mid,r1")
    ['pivot', 'mid', 'r1']
    >>> parse_spec("targets", "pivot;mid:1,pivot:1")
    ['pivot', 'mid:1,pivot:1']
    """
    text = spec.strip()
    if not text:
        raise ParameterError(f"grid {name}=: no values given")
    if ";" in text:
        items = text.split(";")
    elif ":" in text:
        # a range, or one value holding a list (targets=mid:1,pivot:1): ranges have no commas
        return _range(name, text) if "," not in text else [text]
    else:
        items = text.split(",")
    values = [_scalar(item) for item in items if item.strip()]
    if not values:
        raise ParameterError(f"grid {name}={spec!r}: no values given")
    if len(set(map(repr, values))) != len(values):
        raise ParameterError(f"grid {name}={spec!r}: a value is listed twice")
    return values


def parse_grid(items: Sequence[str]) -> dict[str, list[Any]]:
    """Parse ``["name=spec", ...]`` (the CLI's repeated ``--grid``) into ``{name: values}``."""
    axes: dict[str, list[Any]] = {}
    for item in items:
        name, sep, spec = item.partition("=")
        name = name.strip()
        if not sep or not name.isidentifier():
            raise ParameterError(f"grid {item!r}: write name=spec, e.g. stop_offset=5:40:5")
        if name in axes:
            raise ParameterError(f"grid {item!r}: parameter {name!r} is given twice")
        axes[name] = parse_spec(name, spec)
    return axes


# --- constraints ----------------------------------------------------------------------------------------

_COMPARE = {
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
}
_ARITHMETIC = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
}


def _magnitude(value: Any) -> tuple[Any, str]:
    """Split an offset string into (number, unit); plain numbers are points (unit "")."""
    if isinstance(value, str):
        match = _UNIT.match(value.strip())
        if match:
            unit = _UNIT_NAMES.get(match.group(2).lower(), match.group(2).lower())
            return float(match.group(1)), "" if unit == "pt" else unit
        return value, "text"
    return value, ""


def _combine(op: Callable[[Any, Any], Any], left: Any, right: Any, text: str) -> Any:
    (a, unit_a), (b, unit_b) = _magnitude(left), _magnitude(right)
    if "text" in (unit_a, unit_b):
        if op in (operator.eq, operator.ne):
            return op(left, right)
        raise ParameterError(f"constraint {text!r}: cannot order or add text values {left!r}, {right!r}")
    scaling = op in (operator.mul, operator.truediv) and "" in (unit_a, unit_b)
    if unit_a != unit_b and not scaling:
        raise ParameterError(f"constraint {text!r}: cannot combine {left!r} with {right!r} (different units)")
    result = op(a, b)
    unit = unit_a or unit_b
    # Arithmetic keeps the unit ("1.5atr" * 2 is "3.0atr") so a later comparison still checks it.
    return f"{result}{unit}" if unit and op in _ARITHMETIC.values() else result


def parse_constraint(text: str) -> Constraint:
    """Compile the expression `text` into ``params -> bool`` without ``eval``.

    Allowed: parameter names, numbers, quoted strings, ``+ - * /``, unary minus, chained comparisons,
    ``and``/``or``/``not``. Anything else (calls, attributes, subscripts) is a ParameterError.
    """
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError as exc:
        raise ParameterError(f"constraint {text!r}: not an expression ({exc.msg})") from None

    def evaluate(node: ast.AST, params: Mapping[str, Any]) -> Any:
        if isinstance(node, ast.Expression):
            return evaluate(node.body, params)
        if isinstance(node, ast.Constant) and isinstance(node.value, int | float | str | bool | type(None)):
            return node.value
        if isinstance(node, ast.Name):
            if node.id not in params:
                raise ParameterError(f"constraint {text!r}: unknown parameter {node.id!r}")
            return params[node.id]
        if isinstance(node, ast.BoolOp):
            results = (bool(evaluate(value, params)) for value in node.values)
            return all(results) if isinstance(node.op, ast.And) else any(results)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            return not evaluate(node.operand, params)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            value, unit = _magnitude(evaluate(node.operand, params))
            return -value if unit == "" else f"{-value}{unit}"
        if isinstance(node, ast.BinOp) and type(node.op) in _ARITHMETIC:
            left, right = evaluate(node.left, params), evaluate(node.right, params)
            return _combine(_ARITHMETIC[type(node.op)], left, right, text)
        if isinstance(node, ast.Compare):
            left = evaluate(node.left, params)
            for op, comparator in zip(node.ops, node.comparators, strict=True):
                if type(op) not in _COMPARE:
                    break
                right = evaluate(comparator, params)
                if not _combine(_COMPARE[type(op)], left, right, text):
                    return False
                left = right
            else:
                return True
        raise ParameterError(f"constraint {text!r}: only names, numbers, + - * /, comparisons, and/or/not")

    def constraint(params: Mapping[str, Any]) -> bool:
        return bool(evaluate(tree, params))

    constraint.__doc__ = text
    return constraint


# --- the space ------------------------------------------------------------------------------------------


class ParameterSpace:
    """A grid of parameter values, optionally a seeded random sample of it, filtered by constraints.

    Iteration yields ``dict`` combinations lazily (a grid of millions never sits in memory). Order is the
    grid's (last axis fastest); a random sample is drawn without replacement and iterated in grid order,
    so the same seed gives the same runs in the same order.

    Parameters
    ----------
    axes : mapping
        ``{name: values}``; a value that is a string is parsed with :func:`parse_spec`, a scalar is one value.
    constraints : sequence of str or callable
        Each combination must satisfy all of them (see :func:`parse_constraint`).
    random : int, optional
        Draw this many combinations uniformly without replacement instead of the whole grid.
    seed : int
        Seed of the random draw.
    yes : bool
        Allow more than :data:`MAX_RUNS_WITHOUT_CONFIRMATION` runs.
    """

    def __init__(
        self,
        axes: Mapping[str, Any],
        *,
        constraints: Sequence[str | Constraint] = (),
        random: int | None = None,
        seed: int = 0,
        yes: bool = False,
    ) -> None:
        if not axes:
            raise ParameterError("parameter space: no parameters to vary; give at least one grid axis")
        self.axes: dict[str, list[Any]] = {}
        for name, values in axes.items():
            if isinstance(values, str):
                self.axes[name] = parse_spec(name, values)
            elif isinstance(values, Sequence | np.ndarray | range):
                self.axes[name] = [v.item() if isinstance(v, np.generic) else v for v in values]
            else:
                self.axes[name] = [values]
            if not self.axes[name]:
                raise ParameterError(f"parameter space: {name!r} has no values")
        self.constraints: tuple[Constraint, ...] = tuple(
            parse_constraint(c) if isinstance(c, str) else c for c in constraints
        )
        if random is not None and random < 1:
            raise ParameterError(f"parameter space: random={random} must be a positive number of runs")
        self.random = random
        self.seed = seed
        if self.runs > MAX_RUNS_WITHOUT_CONFIRMATION and not yes:
            raise ParameterError(
                f"parameter space: {self.runs:,} runs ({self.describe()}) exceeds "
                f"{MAX_RUNS_WITHOUT_CONFIRMATION:,}; pass yes=True (--yes) or use --random N"
            )

    @property
    def names(self) -> list[str]:
        """Parameter names, in axis order."""
        return list(self.axes)

    @property
    def size(self) -> int:
        """Number of combinations in the full grid (before sampling and constraints)."""
        return math.prod(len(values) for values in self.axes.values())

    @property
    def runs(self) -> int:
        """Number of combinations iterated before constraints (the sample size, or the grid size)."""
        return self.size if self.random is None else min(self.random, self.size)

    def describe(self) -> str:
        """Return e.g. ``"stop_offset 8 × target 3 = 24 combinations"`` (plus the sample, if any)."""
        axes = " × ".join(f"{name} {len(values)}" for name, values in self.axes.items())
        text = f"{axes} = {self.size:,} combinations"
        if self.random is not None:
            text += f", random sample of {self.runs:,} (seed {self.seed})"
        if self.constraints:
            text += f", {len(self.constraints)} constraint(s)"
        return text

    def _indices(self) -> Iterator[int]:
        if self.random is None or self.random >= self.size:
            return iter(range(self.size))
        rng = np.random.default_rng(self.seed)
        # Generator.choice without replacement is O(sample) for a huge population (Floyd's algorithm).
        return iter(np.sort(rng.choice(self.size, size=self.random, replace=False)).tolist())

    def _combination(self, index: int) -> dict[str, Any]:
        combination = {}
        for name in reversed(self.axes):
            values = self.axes[name]
            index, position = divmod(index, len(values))
            combination[name] = values[position]
        return {name: combination[name] for name in self.axes}

    def __iter__(self) -> Iterator[dict[str, Any]]:
        if self.random is None:
            combos: Iterator[dict[str, Any]] = (
                dict(zip(self.axes, values, strict=True)) for values in itertools.product(*self.axes.values())
            )
        else:
            combos = (self._combination(index) for index in self._indices())
        return (combo for combo in combos if all(check(combo) for check in self.constraints))

    def __repr__(self) -> str:
        return f"ParameterSpace({self.describe()})"
