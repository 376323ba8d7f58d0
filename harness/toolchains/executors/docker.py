"""Run make.bash inside a Docker container, through the Python docker SDK.

The container has no network, sees the bootstrap GOROOT read-only and the tree being
built read-write (both at their host paths, so logs and errors name real paths), runs
as the calling user, and is removed however the build ends.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import docker
import docker.errors

from harness.errors import BuildError, EnvironmentProblem
from harness.toolchains.executors.base import BuildJob, MakeLog, make_env, tail
from harness.toolchains.executors.image import BUILDER_RECIPE_HASH, ensure_builder_image


def docker_client() -> tuple[docker.DockerClient | None, str]:
    """A client whose engine answered a ping, or None and the reason it did not."""
    try:
        client = docker.from_env(timeout=20)
        client.ping()
    except docker.errors.DockerException as exc:
        return None, str(exc).splitlines()[0][:200]
    except Exception as exc:  # the SDK leaks requests/urllib3 errors on odd sockets
        return None, f"{type(exc).__name__}: {exc}"[:200]
    return client, ""


class DockerExecutor:
    name = "docker"

    def __init__(self, client: docker.DockerClient):
        self.client = client
        self._image_id: str | None = None
        self._image_tag: str | None = None

    def engine_version(self) -> str:
        try:
            return str(self.client.version().get("Version", "?"))
        except docker.errors.DockerException:
            return "?"

    def identity(self) -> dict:
        # The recipe, not the image id: an image rebuilt from the same recipe on another
        # machine is the same build environment, and must hit the same cache entry.
        return {"kind": "docker", "builder_recipe": BUILDER_RECIPE_HASH}

    def describe(self) -> dict:
        return {
            "kind": "docker",
            "builder_recipe": BUILDER_RECIPE_HASH,
            "image": self._image_tag,
            "image_id": self._image_id,
            "engine": self.engine_version(),
        }

    def run_make(self, job: BuildJob) -> None:
        image = ensure_builder_image(self.client)
        self._image_id, self._image_tag = image.id, image.tag
        scratch = Path("/tmp/stwbench-make")
        env = make_env(job, scratch)
        # The container's /tmp is its own; make scratch there, then run make.bash.
        script = f"mkdir -p {scratch} && cd {job.tree / 'src'} && exec bash make.bash"
        try:
            container = self.client.containers.run(
                image.tag,
                ["bash", "-c", script],
                detach=True,
                environment=env,
                network_mode="none",
                cpuset_cpus=job.cpuset,
                user=f"{os.getuid()}:{os.getgid()}",
                volumes={
                    str(job.bootstrap): {"bind": str(job.bootstrap), "mode": "ro"},
                    str(job.tree): {"bind": str(job.tree), "mode": "rw"},
                },
                labels={"org.stwbench.role": "make.bash", "org.stwbench.tree": str(job.tree)},
            )
        except docker.errors.DockerException as exc:
            raise EnvironmentProblem(f"docker could not start the build container: {exc}") from exc
        try:
            with job.log_path.open("w") as log, MakeLog(log, "make.bash (docker)") as out:
                pending = b""
                for chunk in container.logs(stream=True, follow=True):
                    pending += chunk
                    *lines, pending = pending.split(b"\n")
                    for line in lines:
                        out.line(line.decode("utf-8", "replace"))
                if pending:
                    out.line(pending.decode("utf-8", "replace"))
            status = container.wait()
        finally:
            # Interrupted or not, the container must not outlive the build.
            with contextlib.suppress(docker.errors.DockerException):
                container.remove(force=True)
        code = status.get("StatusCode", -1)
        if code != 0:
            raise BuildError(
                f"make.bash failed in docker (exit {code}); log {job.log_path}:\n"
                f"{tail(job.log_path)}"
            )
