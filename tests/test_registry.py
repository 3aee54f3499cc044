"""Strategy discovery: repo folder, extra folders, entry points, module:Class; duplicates, unknown names."""

from __future__ import annotations

import importlib.metadata
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from rtystrat import registry
from rtystrat.errors import ParameterError, UnknownStrategyError
from rtystrat.execution.strategy import SetupStrategy
from rtystrat.registry import discover, get_strategy, resolve_strategies, search_paths

REPO_STRATEGIES = Path(__file__).resolve().parents[1] / "strategies"

THIRD_SETUP = """
from rtystrat.signals import setups
from rtystrat.execution.strategy import SetupStrategy


class Helper(SetupStrategy):
    '''A base class in a strategy file: it inherits a name but declares none, so it is not registered.'''


class {cls}(Helper):
    name = "{name}"
    setup = staticmethod(setups.bullish_reversal)
    parameters = setups.BULLISH_REVERSAL_PARAMETERS.with_defaults(stop_offset="20pt")
"""


def write_strategy(folder: Path, file: str, name: str, cls: str = "ThirdSetup") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / file
    path.write_text(textwrap.dedent(THIRD_SETUP.format(cls=cls, name=name)), encoding="utf-8")
    return path


def test_repo_strategies_are_found_by_name_and_are_the_importable_classes() -> None:
    found = discover()
    assert {"bullish_reversal", "bearish_breakdown"} <= set(found)
    module = sys.modules[found["bullish_reversal"].__module__]
    assert Path(module.__file__).resolve().parent == REPO_STRATEGIES
    assert get_strategy("bearish_breakdown") is found["bearish_breakdown"]
    assert REPO_STRATEGIES in search_paths()


def test_both_resolves_to_the_two_setups_in_order() -> None:
    assert [cls.name for cls in resolve_strategies("both")] == ["bullish_reversal", "bearish_breakdown"]
    assert [cls.name for cls in resolve_strategies(["bearish_breakdown"])] == ["bearish_breakdown"]


def test_listing_a_strategy_twice_is_an_error() -> None:
    with pytest.raises(ParameterError, match="'bullish_reversal' is listed twice"):
        resolve_strategies(["both", "bullish_reversal"])


def test_unknown_name_suggests_and_lists_search_paths() -> None:
    with pytest.raises(UnknownStrategyError) as info:
        get_strategy("bulish_reversal")
    message = str(info.value)
    assert "(did you mean 'bullish_reversal'?)" in message
    assert "available: bearish_breakdown, both, bullish_reversal" in message
    assert str(REPO_STRATEGIES) in message and "entry points 'rtystrat.strategies'" in message
    assert "\n" not in message


def test_strategy_path_adds_a_folder_and_its_files_import_under_private_names(tmp_path: Path) -> None:
    write_strategy(tmp_path / "mine", "third.py", "third_setup")
    found = discover([tmp_path / "mine"])
    cls = found["third_setup"]
    assert cls.parameters.defaults()["stop_offset"] == "20pt"
    assert cls.__module__.startswith("_rtystrat_strategies_")
    assert "custom" not in found  # the helper base class declares no name of its own
    assert get_strategy("third_setup", [tmp_path / "mine"]) is cls


def test_a_strategy_file_class_has_a_reference_a_fresh_process_loads(tmp_path: Path) -> None:
    path = write_strategy(tmp_path / "mine", "third.py", "third_setup")
    cls = get_strategy("third_setup", [tmp_path / "mine"])
    reference = registry.file_reference(cls)
    assert reference == f"{path.resolve()}:ThirdSetup"
    # A new interpreter has never imported the file: the reference alone finds it.
    code = f"from rtystrat.registry import get_strategy; print(get_strategy({reference!r}).name)"
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert run.stdout.strip() == "third_setup"
    assert registry.file_reference(get_strategy("bullish_reversal")) is None  # importable by name


def test_duplicate_names_are_an_error_naming_both_files(tmp_path: Path) -> None:
    first = write_strategy(tmp_path / "a", "one.py", "twin")
    second = write_strategy(tmp_path / "b", "two.py", "twin")
    with pytest.raises(ParameterError) as info:
        discover([tmp_path / "a", tmp_path / "b"])
    assert "duplicate strategy name 'twin'" in str(info.value)
    assert str(first) in str(info.value) and str(second) in str(info.value)


def test_a_name_clashing_with_the_repo_recipes_is_an_error(tmp_path: Path) -> None:
    write_strategy(tmp_path, "clash.py", "bullish_reversal")
    with pytest.raises(ParameterError, match="duplicate strategy name 'bullish_reversal'"):
        discover([tmp_path])


def test_missing_strategy_path_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ParameterError, match="is not a folder"):
        discover([tmp_path / "nowhere"])


def test_module_class_and_file_class_references(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_strategy(tmp_path / "modules", "by_module.py", "by_module")
    monkeypatch.syspath_prepend(str(tmp_path / "modules"))
    assert get_strategy("by_module:ThirdSetup").name == "by_module"
    path = write_strategy(tmp_path, "by_file.py", "by_file")
    assert get_strategy(f"{path}:ThirdSetup").name == "by_file"
    with pytest.raises(
        UnknownStrategyError, match="has no class 'ThirdSetp' \\(did you mean 'ThirdSetup'\\?\\)"
    ):
        get_strategy(f"{path}:ThirdSetp")
    with pytest.raises(UnknownStrategyError, match="No module named"):
        get_strategy("no_such_module:Thing")
    with pytest.raises(UnknownStrategyError, match="is not a SetupStrategy subclass"):
        get_strategy("pathlib:Path")


def test_classes_pass_through_and_must_be_named_setup_strategies() -> None:
    strategy = get_strategy("bullish_reversal")
    assert get_strategy(strategy) is strategy
    with pytest.raises(UnknownStrategyError):
        get_strategy(SetupStrategy)


class FakeEntryPoint:
    """The part of importlib.metadata.EntryPoint the registry uses."""

    def __init__(self, name: str, value: str, target: Any) -> None:
        self.name, self.value, self._target = name, value, target

    def load(self) -> Any:
        return self._target


def test_entry_points_register_strategies(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    cls = discover([write_strategy(tmp_path / "pkg", "plugin.py", "plugin_setup").parent])["plugin_setup"]
    points = [FakeEntryPoint("plugin_setup", "pkg.plugin:ThirdSetup", cls)]

    def entry_points(group: str) -> list[FakeEntryPoint]:
        return points if group == registry.ENTRY_POINT_GROUP else []

    monkeypatch.setattr(importlib.metadata, "entry_points", entry_points)
    assert discover()["plugin_setup"] is cls
    assert "plugin_setup" not in discover(entry_points=False)


MARKER_FILE = """
from pathlib import Path

Path({marker!r}).write_text("ran", encoding="utf-8")  # a side effect nobody asked for
"""


def test_a_name_lookup_imports_only_the_file_that_declares_it(tmp_path: Path) -> None:
    folder = tmp_path / "downloaded"
    write_strategy(folder, "wanted.py", "wanted_setup", cls="Wanted")
    marker = tmp_path / "ran.txt"
    (folder / "other.py").write_text(MARKER_FILE.format(marker=str(marker)), encoding="utf-8")
    (folder / "broken.py").write_text("class Broken(:\n", encoding="utf-8")
    assert get_strategy("wanted_setup", [folder]).name == "wanted_setup"
    assert registry.strategy_names([folder])["wanted_setup"] == str(folder / "wanted.py")
    with pytest.raises(
        UnknownStrategyError, match=r"unknown strategy 'wanted_setp'.*did you mean 'wanted_setup'"
    ):
        get_strategy("wanted_setp", [folder])
    assert not marker.exists()


def test_a_strategies_folder_in_the_current_directory_is_not_imported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    marker = tmp_path / "ran.txt"
    (tmp_path / "strategies").mkdir()
    (tmp_path / "strategies" / "x.py").write_text(MARKER_FILE.format(marker=str(marker)), encoding="utf-8")
    write_strategy(tmp_path / "strategies", "local.py", "local_setup", cls="Local")
    monkeypatch.chdir(tmp_path)
    assert get_strategy("bullish_reversal").name == "bullish_reversal"
    with pytest.raises(UnknownStrategyError, match="unknown strategy 'local_setup'"):
        get_strategy("local_setup")
    assert (tmp_path / "strategies").resolve() not in search_paths()
    assert not marker.exists()
