"""Output files named on the command line, checked before any work starts.

A backtest that runs for a minute and then cannot write its ``--json`` loses the run; checking the path first
turns that into a one-line error naming the flag, before any data is read.
"""

from __future__ import annotations

import os
from pathlib import Path

from rtystrat.errors import ParameterError

__all__ = ["check_output"]


def check_output(flag: str, path: str | os.PathLike[str] | None) -> Path | None:
    """Return `path` as a Path if a file can be written there (None passes through).

    Raises
    ------
    ParameterError
        One line naming `flag` and the path: it is a folder, its folder does not exist, or that folder is
        not writable.
    """
    if path is None:
        return None
    target = Path(path)
    if target.is_dir():
        raise ParameterError(f"{flag} {str(path)!r}: is a folder, not a file")
    folder = target.parent
    if not folder.is_dir():
        raise ParameterError(f"{flag} {str(path)!r}: the folder {str(folder)!r} does not exist")
    if not os.access(folder, os.W_OK):
        raise ParameterError(f"{flag} {str(path)!r}: the folder {str(folder)!r} is not writable")
    return target
