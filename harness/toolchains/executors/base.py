"""What every executor shares: the build job, make.bash's environment, its progress."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Protocol

from harness.console import console, progress

# The lines make.bash prints as it moves through its stages (unchanged 1.21 … 1.27).
MAKE_STAGES = [
    ("cmd/dist", re.compile(r"^Building Go cmd/dist")),
    ("toolchain1", re.compile(r"^Building Go toolchain1")),
    ("go_bootstrap", re.compile(r"^Building Go bootstrap cmd/go")),
    ("toolchain2", re.compile(r"^Building Go toolchain2")),
    ("toolchain3", re.compile(r"^Building Go toolchain3")),
    ("std and cmd", re.compile(r"^Building packages and commands")),
    ("installed", re.compile(r"^Installed Go for")),
]


@dataclass(frozen=True)
class BuildJob:
    """One make.bash run: build `tree` (patched GOROOT) with `bootstrap` (unpatched)."""

    tree: Path
    bootstrap: Path
    log_path: Path
    cpuset: str | None = None  # e.g. "0-1"; None = all CPUs


class Executor(Protocol):
    name: str

    def identity(self) -> dict:
        """What of the executor shapes the output: part of the cache key."""
        ...

    def describe(self) -> dict:
        """Everything worth recording in provenance.json (image id, engine version)."""
        ...

    def run_make(self, job: BuildJob) -> None:
        """Run src/make.bash; raise BuildError on failure, leave the log at job.log_path."""
        ...


def make_env(job: BuildJob, scratch: Path) -> dict[str, str]:
    """The whole environment make.bash sees, identical for every executor.

    CGO_ENABLED=0 because the builder image has no C compiler and a toolchain must not
    depend on which executor built it. GOENV=off and an empty GOFLAGS keep the user's
    go env out; GOCACHE in scratch keeps the build from reading the host's cache.
    """
    return {
        "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        "HOME": str(scratch),
        "GOROOT_BOOTSTRAP": str(job.bootstrap),
        "GOCACHE": str(scratch / "gocache"),
        "GOTMPDIR": "",
        "CGO_ENABLED": "0",
        "GOTOOLCHAIN": "local",
        "GOPROXY": "off",
        "GOENV": "off",
        "GOFLAGS": "",
        "LANG": "C",
    }


class MakeLog:
    """Tees make.bash output to the log file and the console; drives a stage bar."""

    def __init__(self, log: IO[str], title: str):
        self.log = log
        self.title = title
        self.started = time.monotonic()
        self._progress = progress()
        self._task = self._progress.add_task(title, total=len(MAKE_STAGES))

    def __enter__(self) -> MakeLog:
        self._progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._progress.stop()

    def line(self, text: str) -> None:
        self.log.write(text + "\n")
        self.log.flush()
        stripped = text.strip()
        if not stripped:
            return
        self._progress.console.print(f"  [dim]│[/] {stripped}", soft_wrap=True)
        for done, (stage, pattern) in enumerate(MAKE_STAGES, start=1):
            if pattern.match(stripped):
                self._progress.update(
                    self._task, completed=done, description=f"{self.title}: {stage}"
                )

    def elapsed(self) -> float:
        return time.monotonic() - self.started


def tail(path: Path, lines: int = 25) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


__all__ = ["MAKE_STAGES", "BuildJob", "Executor", "MakeLog", "console", "make_env", "tail"]
