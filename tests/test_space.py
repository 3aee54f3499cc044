"""Parameter spaces: grid syntax, lists, units, random samples, constraints and the size guard."""

from __future__ import annotations

import pytest

from rtystrat.errors import ParameterError
from rtystrat.tuning.space import ParameterSpace, parse_constraint, parse_grid, parse_spec


@pytest.mark.parametrize(
    ("spec", "values"),
    [
        ("5:40:5", [5, 10, 15, 20, 25, 30, 35, 40]),
        ("5:42:5", [5, 10, 15, 20, 25, 30, 35, 40]),  # the stop is included only when on the step
        ("0.1:0.3:0.1", [0.1, 0.2, 0.3]),  # decimal-exact: no 0.30000000000000004, stop not lost
        ("0.5:2:0.5", [0.5, 1.0, 1.5, 2.0]),
        ("7:7:1", [7]),
        ("5:20:5pt", ["5pt", "10pt", "15pt", "20pt"]),
        ("5pt:20pt:5pt", ["5pt", "10pt", "15pt", "20pt"]),
        ("0.5:1.5:0.5atr", ["0.5atr", "1atr", "1.5atr"]),
        ("0.5:1:0.25%", ["0.5%", "0.75%", "1%"]),
        ("pivot,mid,r1", ["pivot", "mid", "r1"]),
        ("10, 20 ,30", [10, 20, 30]),
        ("true,false", [True, False]),
        ("none,2.5", [None, 2.5]),
        ("13pt,1.5atr", ["13pt", "1.5atr"]),
        ("10", [10]),
        ("mid:1,pivot:1", ["mid:1,pivot:1"]),  # one scale-out value: ranges have no commas
        ("pivot;mid:1,pivot:1;mid:1,150pt:2", ["pivot", "mid:1,pivot:1", "mid:1,150pt:2"]),
    ],
)
def test_parse_spec_gives_trader_readable_values(spec: str, values: list) -> None:
    assert parse_spec("x", spec) == values


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("5:40", "start:stop:step"),
        ("5:40:0", "step must be positive"),
        ("40:5:5", "below the start"),
        ("5pt:40atr:5", "mixed units"),
        ("a:b:c", "not a number"),
        ("1,2,1", "listed twice"),
        ("mid:1,pivot:1;mid:1,pivot:1", "listed twice"),
        ("", "no values"),
    ],
)
def test_parse_spec_rejects_bad_specs_naming_the_parameter(spec: str, message: str) -> None:
    with pytest.raises(ParameterError, match=message) as info:
        parse_spec("stop_offset", spec)
    assert "stop_offset" in str(info.value)
    assert "\n" not in str(info.value)


def test_parse_grid_reads_repeated_name_equals_spec() -> None:
    assert parse_grid(["stop_offset=5:15:5", "target=pivot,r1"]) == {
        "stop_offset": [5, 10, 15],
        "target": ["pivot", "r1"],
    }
    with pytest.raises(ParameterError, match="given twice"):
        parse_grid(["a=1", "a=2"])
    with pytest.raises(ParameterError, match="name=spec"):
        parse_grid(["stop_offset"])


def test_space_iterates_the_grid_last_axis_fastest() -> None:
    space = ParameterSpace({"a": "1:2:1", "b": ["x", "y"], "c": 7})
    assert list(space) == [
        {"a": 1, "b": "x", "c": 7},
        {"a": 1, "b": "y", "c": 7},
        {"a": 2, "b": "x", "c": 7},
        {"a": 2, "b": "y", "c": 7},
    ]
    assert space.size == space.runs == 4
    assert space.describe() == "a 2 × b 2 × c 1 = 4 combinations"


def test_random_sample_is_seeded_without_replacement_and_in_grid_order() -> None:
    axes = {"a": "1:100:1", "b": "1:100:1"}
    first = list(ParameterSpace(axes, random=50, seed=3))
    assert first == list(ParameterSpace(axes, random=50, seed=3))
    assert first != list(ParameterSpace(axes, random=50, seed=4))
    keys = [(c["a"], c["b"]) for c in first]
    assert len(set(keys)) == 50
    assert keys == sorted(keys)
    assert all(1 <= a <= 100 and 1 <= b <= 100 for a, b in keys)


def test_random_sample_larger_than_grid_is_the_grid() -> None:
    space = ParameterSpace({"a": [1, 2, 3]}, random=10)
    assert space.runs == 3
    assert [c["a"] for c in space] == [1, 2, 3]


def test_constraints_filter_combinations_from_expressions_and_callables() -> None:
    space = ParameterSpace(
        {"stop_offset": "10:30:10", "target_offset": "10:30:10"},
        constraints=["target_offset > stop_offset", lambda p: p["stop_offset"] != 20],
    )
    assert [(c["stop_offset"], c["target_offset"]) for c in space] == [(10, 20), (10, 30)]
    assert "2 constraint(s)" in space.describe()


@pytest.mark.parametrize(
    ("expression", "params", "expected"),
    [
        ("a * 2 <= b and not c", {"a": 2, "b": 4, "c": False}, True),
        ("a < b < 10", {"a": 1, "b": 12}, False),
        ("a - 1 == -b / 2 or b == 'x'", {"a": 1, "b": 0}, True),
        ("stop < target", {"stop": "13pt", "target": "40pt"}, True),
        ("stop * 2 > target", {"stop": "1.5atr", "target": "2atr"}, True),
        ("stop < 20", {"stop": "13pt"}, True),  # a bare number means points
        ("mode != 'close'", {"mode": "stop"}, True),
    ],
)
def test_constraint_expressions_evaluate_without_eval(expression: str, params: dict, expected: bool) -> None:
    assert parse_constraint(expression)(params) is expected


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("__import__('os').system('true')", "only names"),
        ("a.real > 0", "only names"),
        ("a[0] > 1", "only names"),
        ("a in b", "only names"),
        ("a >", "not an expression"),
    ],
)
def test_constraint_rejects_anything_but_arithmetic_and_comparisons(expression: str, message: str) -> None:
    with pytest.raises(ParameterError, match=message):
        parse_constraint(expression)({"a": 1, "b": 2})


def test_constraint_errors_name_unknown_parameters_and_unit_clashes() -> None:
    with pytest.raises(ParameterError, match="unknown parameter 'stop_ofset'"):
        parse_constraint("stop_ofset < 3")({"stop_offset": 1})
    with pytest.raises(ParameterError, match="different units"):
        parse_constraint("a < b")({"a": "13pt", "b": "1.5atr"})


def test_grid_over_a_million_runs_needs_yes_and_says_how_large() -> None:
    axes = {"a": "1:1000:1", "b": "1:1001:1"}
    with pytest.raises(ParameterError, match="1,001,000 runs"):
        ParameterSpace(axes)
    space = ParameterSpace(axes, yes=True)
    assert space.size == 1_001_000
    sampled = ParameterSpace(axes, random=1000)  # a sample of a huge grid is fine
    assert sampled.runs == 1000
    assert len(list(sampled)) == 1000


def test_space_rejects_empty_axes_and_bad_sample_size() -> None:
    with pytest.raises(ParameterError, match="no parameters"):
        ParameterSpace({})
    with pytest.raises(ParameterError, match="'a' has no values"):
        ParameterSpace({"a": []})
    with pytest.raises(ParameterError, match="positive"):
        ParameterSpace({"a": [1]}, random=0)
