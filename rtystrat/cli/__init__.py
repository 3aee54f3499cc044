"""The ``rtystrat`` command: one entry point, one module per subcommand.

Each subcommand module exposes ``register(subparsers)``, which adds its parser and sets ``func`` to a
handler ``(args) -> int``. Building the parser imports only the standard library and rtystrat's import-free
modules (:mod:`rtystrat.choices`, the registry, the errors): numpy, pandas, numba, backtrader and matplotlib
load inside the handler that needs them, so ``rtystrat --help`` and a mistyped flag answer at once.

Whatever goes wrong ends in one line on stderr, never a traceback (``--verbose`` shows it): a wrong option,
an unusable input (any :class:`~rtystrat.errors.RtystratError`), a file that cannot be read or written, each
with exit code 2; Ctrl-C or SIGTERM with 130 or 143, after the workers of a sweep are ended (its store keeps
every finished run); an unexpected error, which is a bug, with exit code 1 and a request to report it.
Control characters of the message (ANSI escapes from a data cell) are shown escaped, never sent to the
terminal.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import re
import signal
import sys
import traceback
from collections.abc import Iterator, Sequence
from typing import NoReturn

from rtystrat import __version__
from rtystrat.errors import RtystratError

# Order here is the order in `rtystrat --help`.
_SUBCOMMANDS: tuple[str, ...] = (
    "backtest",
    "replay",
    "levels",
    "sweep",
    "walkforward",
    "report",
    "data",
)


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line naming the command, like every other error."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {_printable(message)} (see '{self.prog} --help')\n")


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised in the main thread so that it unwinds (and ends workers) like Ctrl-C."""


def _printable(text: str) -> str:
    """Return `text` on one line with control characters escaped (an ANSI escape in a CSV cell stays text)."""
    return re.sub(r"[\x00-\x1f\x7f-\x9f]", lambda match: repr(match.group())[1:-1], text)


@contextlib.contextmanager
def _sigterm_unwinds() -> Iterator[None]:
    """Raise :class:`Terminated` on SIGTERM while the command runs (only the main thread handles signals)."""

    def terminate(signum: int, frame: object) -> None:
        raise Terminated

    try:
        previous = signal.signal(signal.SIGTERM, terminate)
    except ValueError:  # not the main thread: leave signals alone
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def build_parser() -> argparse.ArgumentParser:
    """Return the top-level parser with every subcommand registered."""
    parser = _Parser(
        prog="rtystrat",
        description="Backtest pivot/SMA/RSI futures setups (RTY and friends) on backtrader.",
        epilog="Run 'rtystrat COMMAND --help' for a command's options and an example.",
    )
    parser.add_argument("--version", action="version", version=f"rtystrat {__version__}")
    _add_common_options(parser, default=False)
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in _SUBCOMMANDS:
        importlib.import_module(f"rtystrat.cli.{name}").register(subparsers)
    # The same switches after the subcommand (`rtystrat backtest both -q`); SUPPRESS keeps a switch given
    # before the subcommand from being reset by the subparser's default.
    for subparser in subparsers.choices.values():
        _add_common_options(subparser, default=argparse.SUPPRESS)
    return parser


def _add_common_options(parser: argparse.ArgumentParser, *, default: object) -> None:
    parser.add_argument(
        "-v", "--verbose", action="store_true", default=default, help="show full tracebacks on errors"
    )
    parser.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        default=default,
        help="no progress bars (data repairs are still reported)",
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line `argv` (default ``sys.argv[1:]``) and return the exit code."""
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra:
        given = list(sys.argv[1:] if argv is None else argv)
        problem = _unrecognized(given, extra[0], args.command)
        print(f"rtystrat {args.command}: error: {problem}", file=sys.stderr)
        return 2
    try:
        with _sigterm_unwinds():
            return int(args.func(args) or 0)
    except BrokenPipeError:
        # `rtystrat backtest both | head`: the reader left; say nothing more and don't let Python's
        # shutdown flush raise a second time.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141
    except (RtystratError, OSError, MemoryError, RecursionError) as exc:
        # OSError: a file that cannot be read or written (permission, full disk, not found)
        return _fail(args, exc if isinstance(exc, RtystratError) else _describe(exc), 2)
    except Terminated:
        print("terminated", file=sys.stderr)
        return 143
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug: still one line, with the way to the traceback
        detail = f"{_describe(exc)}; please report it with the output of --verbose"
        return _fail(args, f"internal error: {detail}", 1)


def _describe(exc: BaseException) -> str:
    """Return an unexpected exception as ``"Type: first line of its message"``."""
    if isinstance(exc, OSError):
        return f"{exc.filename}: {exc.strerror}" if exc.filename is not None and exc.strerror else str(exc)
    if isinstance(exc, MemoryError):
        return "out of memory (is the input far larger than expected?)"
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text.splitlines()[0]}" if text else type(exc).__name__


def _fail(args: argparse.Namespace, exc: BaseException | str, code: int) -> int:
    if args.verbose:
        traceback.print_exc()
    else:
        print(f"rtystrat {args.command}: error: {_printable(str(exc))}", file=sys.stderr)
    return code


def _unrecognized(argv: list[str], token: str, command: str) -> str:
    """Say what is wrong with `token`, a word no option takes: most often half of a NAME=VALUE split by a
    space (``--param stop_offset=20 pts``), which argparse would only report with the top-level usage."""
    position = argv.index(token)
    before, option = (argv[position - 1], argv[position - 2]) if position > 1 else ("", "")
    if "=" in before and option.startswith("--"):
        return (
            f"{option} {f'{before} {token}'!r}: a value cannot contain an unquoted space; "
            "write it without the space or in quotes"
        )
    return f"unrecognized argument {token!r} (see rtystrat {command} --help)"


if __name__ == "__main__":  # pragma: no cover - `python -m rtystrat.cli`
    raise SystemExit(main())
