"""``RunConfig``: an unknown setting is a one-line ParameterError with a suggestion and the valid names."""

from __future__ import annotations

import dataclasses

import pytest

from rtystrat import choices
from rtystrat.errors import ParameterError
from rtystrat.execution import fills
from rtystrat.execution.config import RunConfig

VALID = ", ".join(field.name for field in dataclasses.fields(RunConfig))


@pytest.mark.parametrize(
    "build",
    [
        lambda: RunConfig(fill_polcy="optimistic"),
        lambda: RunConfig.from_dict({"fill_polcy": "optimistic"}),
        lambda: RunConfig().replace(fill_polcy="optimistic"),
    ],
    ids=["constructor", "from_dict", "replace"],
)
def test_a_misspelt_setting_names_itself_suggests_and_lists_the_valid_ones(build) -> None:
    with pytest.raises(ParameterError) as info:
        build()
    assert str(info.value) == (
        f"unknown run setting 'fill_polcy' (did you mean 'fill_policy'?); valid: {VALID}"
    )


def test_a_setting_nothing_resembles_still_lists_the_valid_ones() -> None:
    with pytest.raises(ParameterError, match=r"^unknown run setting 'typo'; valid: contract, cash, "):
        RunConfig(typo=1)


def test_a_config_survives_copy_and_pickle() -> None:
    import copy
    import pickle

    config = RunConfig(contracts=2, fill_policy="optimistic")
    assert pickle.loads(pickle.dumps(config)) == config
    assert copy.deepcopy(config) == config


def test_each_fill_policy_name_sets_the_state_machines_code_of_that_name() -> None:
    # The command line offers rtystrat.choices.POLICIES without loading numba; the settings vector carries a
    # name's position there, which the compiled state machine reads as its constant of the same name.
    codes = {name: RunConfig(fill_policy=name).fill_settings()[fills.SET_POLICY] for name in choices.POLICIES}
    assert codes == {
        "pessimistic": fills.PESSIMISTIC,
        "optimistic": fills.OPTIMISTIC,
        "ohlc_path": fills.OHLC_PATH,
        "intraday": fills.INTRADAY,
    }
