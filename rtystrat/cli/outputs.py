"""Output files named on the command line: checked before any work starts, written atomically.

A backtest that runs for a minute and then cannot write its ``--json`` loses the run; checking the path first
turns that into a one-line error naming the flag, before any data is read. An output that is also an input
(``--data d.csv --json d.csv``, ``--store s.sqlite --json s.sqlite``) would destroy the input: it is refused.
Files are written to a temporary name in the same folder and renamed into place, so an interrupted or failed
write never leaves a half-written file where a good one was.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path

from rtystrat.errors import ParameterError

__all__ = ["atomic_path", "check_output"]

PathLike = str | os.PathLike[str]


def check_output(
    flag: str, path: PathLike | None, inputs: Mapping[str, PathLike | None] | None = None
) -> Path | None:
    """Return `path` as a Path if a file can be written there (None passes through).

    `inputs` maps the flag of each input of the command to its path (None: not given).

    Raises
    ------
    ParameterError
        One line naming `flag` and the path: it is a folder, its folder does not exist or is not writable, or
        it is one of the `inputs`, or it exists and is not a regular file (a device, a pipe).
    """
    if path is None:
        return None
    target = Path(path)
    if target.is_dir():
        raise ParameterError(f"{flag} {str(path)!r}: is a folder, not a file")
    if target.exists() and not target.is_file():
        raise ParameterError(f"{flag} {str(path)!r}: is not a regular file (a device or a pipe?)")
    for input_flag, source in (inputs or {}).items():
        if source is not None and _covers(Path(source), target):
            raise ParameterError(
                f"{flag} {str(path)!r}: is also the input {input_flag} {str(source)!r}; writing it would "
                "destroy that input, so choose another file"
            )
    folder = target.parent
    if not folder.is_dir():
        raise ParameterError(f"{flag} {str(path)!r}: the folder {str(folder)!r} does not exist")
    if not os.access(folder, os.W_OK):
        raise ParameterError(f"{flag} {str(path)!r}: the folder {str(folder)!r} is not writable")
    return target


def _covers(source: Path, target: Path) -> bool:
    """Return whether writing `target` would write the input `source`."""
    if source.exists() and target.exists():
        return os.path.samefile(source, target)  # hard links and symlinks too
    return source.resolve() == target.resolve()


@contextlib.contextmanager
def atomic_path(path: PathLike) -> Iterator[Path]:
    """Yield a temporary path beside `path` to write to; on success rename it to `path`, else remove it.

    The temporary name keeps the suffixes of `path`, so writers that infer the format from them (PNG/SVG,
    ``.csv.gz``, Parquet) write the same format.
    """
    target = Path(path)
    handle, name = tempfile.mkstemp(
        dir=target.parent, prefix=f".{target.name}.", suffix="".join(target.suffixes) or ".tmp"
    )
    os.close(handle)
    temporary = Path(name)
    try:
        yield temporary
        # mkstemp makes the file private (0600); give it the mode a plain open() would have
        os.chmod(temporary, target.stat().st_mode if target.exists() else 0o666 & ~_umask())
        os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)


def _umask() -> int:
    mask = os.umask(0)  # the only way to read it is to set it; put it straight back
    os.umask(mask)
    return mask
