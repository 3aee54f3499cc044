"""The ``rtystrat`` command: one entry point, one module per subcommand.

Each subcommand module exposes ``register(subparsers)``, which adds its parser and sets ``func`` to a
handler ``(args) -> int``. Building the parser imports only the standard library and rtystrat's import-free
modules (:mod:`rtystrat.choices`, the registry, the errors): numpy, pandas, numba, backtrader and matplotlib
load inside the handler that needs them, so ``rtystrat --help`` and a mistyped flag answer at once.
Errors rtystrat raises on purpose print as one line on stderr with exit code 2;
``--verbose`` shows the traceback instead.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import traceback
from collections.abc import Sequence

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


def build_parser() -> argparse.ArgumentParser:
    """Return the top-level parser with every subcommand registered."""
    parser = argparse.ArgumentParser(
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
        return int(args.func(args) or 0)
    except (RtystratError, FileNotFoundError) as exc:
        if args.verbose:
            traceback.print_exc()
        else:
            print(f"rtystrat {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # `rtystrat backtest both | head`: the reader left; say nothing more and don't let Python's
        # shutdown flush raise a second time.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141


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
