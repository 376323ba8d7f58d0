"""Where make.bash runs: in a Docker container (preferred) or as local subprocesses.

Both executors run the same script with the same environment (see base.make_env);
they differ only in isolation. `resolve()` picks one for `--executor auto|docker|local`.
"""

from __future__ import annotations

import os

from harness.console import console
from harness.errors import EnvironmentProblem, UsageError
from harness.toolchains.executors.base import BuildJob, Executor
from harness.toolchains.executors.docker import DockerExecutor, docker_client
from harness.toolchains.executors.local import LocalExecutor

__all__ = ["BuildJob", "DockerExecutor", "Executor", "LocalExecutor", "resolve"]

DOCKER_HINT = "apt-get install -y docker.io && (dockerd >/var/log/dockerd.log 2>&1 &)"


# One answer per (choice, engine address) per process: a run resolves its executor once
# per variant, and each answer would otherwise ping the engine and print the notice again.
_resolved: dict[tuple[str, str | None], Executor] = {}


def resolve(choice: str) -> Executor:
    key = (choice, os.environ.get("DOCKER_HOST"))
    if key not in _resolved:
        _resolved[key] = _resolve(choice)
    return _resolved[key]


def _resolve(choice: str) -> Executor:
    if choice == "local":
        return LocalExecutor()
    if choice not in ("auto", "docker"):
        raise UsageError(f"--executor must be auto, docker or local, not {choice!r}")
    client, why_not = docker_client()
    if client is not None:
        executor = DockerExecutor(client)
        if choice == "auto":
            console.print(f"executor: docker (engine {executor.engine_version()} answered)")
        return executor
    if choice == "docker":
        raise EnvironmentProblem(
            f"--executor docker: no Docker engine answered ({why_not}). To get one: {DOCKER_HINT}"
        )
    console.print(
        f"[yellow]executor: local[/] (no Docker engine answered: {why_not}; "
        f"for container builds: {DOCKER_HINT})"
    )
    return LocalExecutor()
