"""Run make.bash as a local subprocess (the fallback when no Docker engine answers)."""

from __future__ import annotations

import os
import platform
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

from harness.errors import BuildError, EnvironmentProblem
from harness.toolchains.executors.base import BuildJob, MakeLog, make_env, tail


class LocalExecutor:
    name = "local"

    def identity(self) -> dict:
        return {"kind": "local"}

    def describe(self) -> dict:
        return {"kind": "local", "host": platform.node(), "kernel": platform.release()}

    def run_make(self, job: BuildJob) -> None:
        command = ["bash", "make.bash"]
        if job.cpuset:
            taskset = shutil.which("taskset")
            if taskset is None:
                raise EnvironmentProblem("--cpuset needs taskset (apt-get install -y util-linux)")
            command = [taskset, "--cpu-list", job.cpuset, *command]
        with (
            tempfile.TemporaryDirectory(prefix="stwbench-make-") as scratch,
            job.log_path.open("w") as log,
            MakeLog(log, "make.bash (local)") as out,
        ):
            env = make_env(job, Path(scratch))
            # Own process group, so an interrupt stops make.bash and every compiler it ran.
            process = subprocess.Popen(
                command,
                cwd=job.tree / "src",
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                errors="replace",
                start_new_session=True,
            )
            try:
                assert process.stdout is not None
                for line in process.stdout:
                    out.line(line.rstrip("\n"))
                code = process.wait()
            except BaseException:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
                raise
        if code != 0:
            raise BuildError(
                f"make.bash failed (exit {code}); log {job.log_path}:\n{tail(job.log_path)}"
            )
