"""Command line: ``python -m snnlab train ...`` and ``python -m snnlab handout ...``."""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m snnlab", description="snnlab: train the course's networks, build handouts."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    from snnlab import recipes

    recipes.add_arguments(
        commands.add_parser("train", help="train one of the course's networks on MNIST",
                            description="Train one of the course's networks on MNIST.")
    )
    from snnlab import handout

    handout.add_arguments(
        commands.add_parser("handout", help="export lessons as student or instructor handouts",
                            description="Export lessons as student or instructor handouts.")
    )
    args = parser.parse_args(argv)
    module = recipes if args.command == "train" else handout
    return module.main(args)


if __name__ == "__main__":
    sys.exit(main())
