"""The `stwbench` command: parses arguments and hands them to one command module.

Exit codes: 0 ok; 1 regression found (only when asked to fail on it); 2 usage or
environment error (bad flags, a patch that does not apply, no Docker when required).
"""

from __future__ import annotations

import argparse
import signal
import sys
from collections.abc import Sequence

from rich.markup import escape

from harness import __version__
from harness.commands import ab as ab_command
from harness.commands import bisect as bisect_command
from harness.commands import compare as compare_command
from harness.commands import nightly as nightly_command
from harness.commands import report as report_command
from harness.commands import run as run_command
from harness.commands import sweep as sweep_command
from harness.commands import toolchain as toolchain_command
from harness.console import console
from harness.errors import StwbenchError

EPILOG = """\
examples:
  stwbench toolchain build --go 1.27.3 --patch patches/runqget-priority.patch
  stwbench toolchain build --go 1.27.3 --mode source        # seconds, no make.bash
  stwbench toolchain list
  stwbench toolchain check --go 1.27.3 --patch patches/runqget-priority.patch
  stwbench run --go 1.27.3 --patch patches/runqget-priority.patch --workloads quick --reps 3
  stwbench ab --go 1.27.3 --patch patches/runqget-priority.patch --quick
  stwbench report results/latest
  stwbench nightly --config nightly.toml --fail-on-regression

exit codes: 0 ok, 1 regression found (with --fail-on-regression), 2 usage/environment error
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="stwbench",
        description="A/B-test Go runtime scheduler patches on real Go toolchains.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"stwbench {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    toolchain_command.register(commands)
    run_command.register(commands)
    ab_command.register(commands)
    report_command.register(commands)
    nightly_command.register(commands)
    compare_command.register(commands)
    bisect_command.register(commands)
    sweep_command.register(commands)
    return parser


def _terminate_as_interrupt(signum: int, _frame: object) -> None:
    # SIGTERM (CI timeouts, kill) unwinds like Ctrl-C, so staging dirs and containers
    # are cleaned up by the same finally-blocks.
    raise KeyboardInterrupt(f"signal {signum}")


def main(argv: Sequence[str] | None = None) -> int:
    signal.signal(signal.SIGTERM, _terminate_as_interrupt)
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args) or 0)
    except StwbenchError as exc:
        # escape: messages quote TOML tables ([[variant]]) that rich would read as markup
        console.print(f"[bold red]error:[/] {escape(str(exc))}", markup=True, soft_wrap=True)
        return exc.exit_code
    except KeyboardInterrupt:
        console.print("[yellow]interrupted[/]: nothing half-built was kept")
        return 130


if __name__ == "__main__":
    sys.exit(main())
