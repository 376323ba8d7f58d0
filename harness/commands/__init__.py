"""One module a command (asv style): each registers its subparser and its handler."""

from __future__ import annotations

import argparse


def add_command(
    commands: argparse._SubParsersAction, name: str, *, help: str, description: str
) -> argparse.ArgumentParser:
    """A subcommand whose --help prints `description` as written (its exit codes and
    examples are laid out by hand)."""
    return commands.add_parser(
        name,
        help=help,
        description=description,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
