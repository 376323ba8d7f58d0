"""One rich console for human-facing output (stderr), so stdout stays machine-readable."""

from __future__ import annotations

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

console = Console(stderr=True, highlight=False)


def progress(*, total_known: bool = True) -> Progress:
    """A progress bar in the house style: what, how far, elapsed, and ETA when known."""
    columns = [SpinnerColumn(), TextColumn("{task.description}"), BarColumn()]
    if total_known:
        columns += [MofNCompleteColumn(), TimeRemainingColumn()]
    columns.append(TimeElapsedColumn())
    return Progress(*columns, console=console, transient=False)
