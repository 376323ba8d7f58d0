"""One rich console for human-facing output (stderr), so stdout stays machine-readable."""

from __future__ import annotations

import sys
import time

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

# In a log (CI, nox, a pipe) rich would wrap tables at 80 columns; logs can be wider.
console = Console(stderr=True, highlight=False, width=None if sys.stderr.isatty() else 160)


class LogProgress:
    """Progress for logs (CI, nox, a pipe): a plain line every 10 % or 30 s, with ETA.

    rich draws nothing until the end when stderr is not a terminal, which leaves a long
    run silent; this prints what a person tailing the log needs. It implements the part of
    rich's Progress API the harness uses.
    """

    def __init__(self) -> None:
        self.console = console
        self._tasks: dict[int, dict] = {}

    def __enter__(self) -> LogProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        pass

    def stop(self) -> None:
        for task in self._tasks.values():
            self._emit(task, final=True)

    def add_task(
        self, description: str, total: float | None = None, completed: float = 0, **_: object
    ) -> TaskID:
        task_id = len(self._tasks)
        self._tasks[task_id] = {
            "description": description,
            "total": total,
            "completed": completed,
            "start": time.monotonic(),
            "start_done": completed,
            "last": 0.0,
            "last_pct": -1,
        }
        return TaskID(task_id)

    def update(
        self,
        task_id: TaskID,
        *,
        completed: float | None = None,
        description: str | None = None,
        advance: float | None = None,
        **_: object,
    ) -> None:
        task = self._tasks[task_id]
        if description is not None:
            task["description"] = description
        if completed is not None:
            task["completed"] = completed
        if advance is not None:
            task["completed"] += advance
        self._maybe_emit(task)

    def advance(self, task_id: TaskID, advance: float = 1) -> None:
        self.update(task_id, advance=advance)

    def _maybe_emit(self, task: dict) -> None:
        now = time.monotonic()
        total = task["total"]
        pct = int(100 * task["completed"] / total) // 10 if total else -1
        if pct != task["last_pct"] or now - task["last"] >= 30:
            task["last_pct"], task["last"] = pct, now
            self._emit(task)

    def _emit(self, task: dict, final: bool = False) -> None:
        elapsed = time.monotonic() - task["start"]
        done, total = task["completed"], task["total"]
        text = f"{task['description']}: {done:g}" + (f"/{total:g}" if total else "")
        rate_done = done - task["start_done"]
        if total and rate_done > 0 and not final:
            eta = elapsed / rate_done * (total - done)
            text += f", ETA {eta / 60:.1f} min"
        self.console.print(f"[dim]{text} ({elapsed:.0f} s)[/]", soft_wrap=True)


def progress(*, total_known: bool = True) -> Progress | LogProgress:
    """A progress bar in the house style: what, how far, elapsed, and ETA when known.

    On a terminal a live rich bar; in a log, plain periodic lines (LogProgress).
    """
    if not console.is_terminal:
        return LogProgress()
    columns = [SpinnerColumn(), TextColumn("{task.description}"), BarColumn()]
    if total_known:
        columns += [MofNCompleteColumn(), TimeRemainingColumn()]
    columns.append(TimeElapsedColumn())
    return Progress(*columns, console=console, transient=False)
