"""Notebooks never rot: each runs top to bottom, and its stored ``.ipynb`` matches its ``.py`` twin."""

from __future__ import annotations

from pathlib import Path

import jupytext
import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
NAMES = sorted(path.stem for path in NOTEBOOKS.glob("*.py"))
# Each notebook runs in a few seconds on smoke parameters; this only stops a hung kernel.
CELL_TIMEOUT = 300


def _cells(notebook: nbformat.NotebookNode) -> list[tuple[str, str]]:
    return [(cell.cell_type, cell.source) for cell in notebook.cells]


def test_every_notebook_has_both_forms() -> None:
    assert NAMES == ["01_quickstart", "02_tuning", "03_article_replay"]
    assert sorted(path.stem for path in NOTEBOOKS.glob("*.ipynb")) == NAMES


@pytest.mark.parametrize("name", NAMES)
def test_stored_notebook_has_the_cells_of_its_py_twin_and_no_outputs(name: str) -> None:
    twin = jupytext.read(NOTEBOOKS / f"{name}.py")
    stored = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    assert _cells(stored) == _cells(twin), f"regenerate with: jupytext --to ipynb notebooks/{name}.py"
    code = [cell for cell in stored.cells if cell.cell_type == "code"]
    assert all(not cell.outputs and cell.execution_count is None for cell in code)


def _run(name: str, folder: Path = NOTEBOOKS) -> nbformat.NotebookNode:
    """Execute the stored notebook with `folder` (default: its own) as working directory; return it."""
    notebook = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    # "python3" is the kernel of the interpreter running the tests (jupyter_client maps it to sys.executable).
    client = NotebookClient(
        notebook,
        timeout=CELL_TIMEOUT,
        kernel_name="python3",
        resources={"metadata": {"path": str(folder)}},
    )
    client.execute()
    return notebook


def _streams(notebook: nbformat.NotebookNode, name: str) -> list[str]:
    return [
        output.text
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.outputs
        if output.output_type == "stream" and output.name == name
    ]


@pytest.mark.slow
@pytest.mark.parametrize("name", NAMES)
def test_notebook_runs_top_to_bottom_without_errors_or_warnings(name: str) -> None:
    streams = _streams(_run(name), "stderr")
    warnings = [text for text in streams if "Warning" in text]
    assert not warnings, warnings


@pytest.mark.slow
def test_article_replay_notebook_says_it_runs_on_the_sample_without_shared_data(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("RTYSTRAT_SHARED_DATA", str(tmp_path / "absent"))  # the kernel inherits it
    printed = "".join(_streams(_run("03_article_replay"), "stdout"))
    assert "using the shipped SYNTHETIC sample" in printed
    assert "not filled" in printed  # the article's absolute prices are far from the sample's


@pytest.mark.slow
@pytest.mark.shared_data
def test_article_replay_notebook_finds_the_real_data_from_any_working_directory(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # Started from another folder (a Jupyter server at the repository root, say), ../shared/data is still
    # resolved from the notebook's place in the checkout, not from the working directory.
    if not (NOTEBOOKS.parent.parent / "shared" / "data").is_dir():
        pytest.skip("the data are elsewhere (RTYSTRAT_SHARED_DATA): this checks the default ../shared/data")
    monkeypatch.delenv("RTYSTRAT_SHARED_DATA", raising=False)
    printed = "".join(_streams(_run("03_article_replay", tmp_path), "stdout"))
    assert "Using the real RTY front-month file RTY_F_yahoo_daily.csv" in printed
