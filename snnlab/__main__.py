"""Command line: ``python -m snnlab train ...``, ``handout ...`` and ``edition ...``.

A mistake in what was asked for (a wrong option, a missing file, no GPU for ``--device
cuda``) is one line on stderr and exit status 2, never a traceback. A failure of the machine
(a full disk, a read error) is one line and exit status 1. Anything else that goes wrong is a
bug: exit status 1, with what to report.
"""

from __future__ import annotations

import argparse
import sys
from typing import NoReturn

# The errors that mean "you asked for something that cannot be done", not "snnlab is broken".
USER_ERRORS = (ValueError, TypeError, FileNotFoundError, FileExistsError, PermissionError,
               IsADirectoryError, NotADirectoryError)


class _Parser(argparse.ArgumentParser):
    """argparse, with its errors (a bad option, an invalid number) as one line, exit status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def main(argv: list[str] | None = None) -> int:
    """Run ``python -m snnlab COMMAND ...``; return the exit status. Lesson 04 (``train``)."""
    parser = _Parser(
        prog="python -m snnlab", description="snnlab: train the course's networks, build handouts."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    try:
        from snnlab.course import editions, handout, recipes
        from snnlab.i18n import tr
    except ValueError as error:  # an SNNLAB_* environment variable that is neither on nor off
        print(f"python -m snnlab: error: {_one_line(error)}", file=sys.stderr)
        return 2
    recipes.add_arguments(
        commands.add_parser("train", help=tr("train one of the course's networks on MNIST"),
                            description=tr("Train one of the course's networks on MNIST."))
    )
    handout.add_arguments(
        commands.add_parser("handout", help="export lessons as student or instructor handouts",
                            description="Export lessons as student or instructor handouts.")
    )
    editions.add_arguments(
        commands.add_parser("edition", help="regenerate the student and Chinese editions",
                            description="Regenerate notebooks/NN_*.ipynb, the student edition, "
                                        "from notebooks/solutions/, and the Chinese editions "
                                        "in notebooks/zh/ from translations/zh_CN/, with Colab "
                                        "badges and setup cells.")
    )
    args = parser.parse_args(argv)
    module = {"train": recipes, "handout": handout, "edition": editions}[args.command]
    try:
        return module.main(args)
    except KeyboardInterrupt:
        print(f"python -m snnlab {args.command}: interrupted", file=sys.stderr)
        return 130
    except USER_ERRORS as error:
        print(f"python -m snnlab {args.command}: error: {_one_line(error)}", file=sys.stderr)
        return 2
    except OSError as error:  # the disk or the system, not what was typed, and not a bug
        print(f"python -m snnlab {args.command}: error: {_one_line(error)}", file=sys.stderr)
        return 1
    except Exception as error:  # a bug: say so, and what to report
        print(f"python -m snnlab {args.command}: internal error {type(error).__name__}: "
              f"{_one_line(error)}\n"
              "This is a bug in snnlab, not in what you typed. Please report the command, this "
              "message and `python -c \"import snnlab, torch; print(snnlab.__version__, "
              "torch.__version__)\"`.", file=sys.stderr)
        return 1


def _one_line(error: BaseException) -> str:
    """The error's message on one line (some messages, like MNIST's, list files below)."""
    return " ".join(str(error).split())


if __name__ == "__main__":
    sys.exit(main())
