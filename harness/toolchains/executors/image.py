"""The builder image, made locally: no registry is needed or reachable.

A Debian root filesystem from `debootstrap --variant=minbase` (bash, coreutils: all
make.bash needs once CGO_ENABLED=0) is tarred and `docker import`ed, tagged with the
hash of this recipe. The tag is the cache: an engine that has it never rebuilds it. The
root filesystem's tar is kept in the cache too (images/<hash>.tar), so a further engine
(a second local daemon, a remote one: the import streams it through the API) gets the
same image without debootstrap. It is also the runner image of the docker run executor
(harness/runs/container.py): sh, cat and env are all a static test binary needs there.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import docker
import docker.errors

from harness.console import console
from harness.errors import EnvironmentProblem
from harness.toolchains import cache

BUILDER_RECIPE = {
    "tool": "debootstrap",
    "variant": "minbase",
    "suite": "bookworm",
    "arch": "host",
    "revision": 1,  # bump when anything below changes what the image contains
}
BUILDER_RECIPE_HASH = cache.content_key(BUILDER_RECIPE)[:16]
BUILDER_REPOSITORY = "stwbench-builder"
DEFAULT_MIRROR = "http://deb.debian.org/debian"


@dataclass(frozen=True)
class BuilderImage:
    tag: str
    id: str


def ensure_builder_image(client: docker.DockerClient) -> BuilderImage:
    tag = f"{BUILDER_REPOSITORY}:{BUILDER_RECIPE_HASH}"
    with cache.locked(f"builder-image-{BUILDER_RECIPE_HASH}"):
        try:
            image = client.images.get(tag)
            return BuilderImage(tag=tag, id=image.id)
        except docker.errors.ImageNotFound:
            pass
        _build_image(client, tag)
        return BuilderImage(tag=tag, id=client.images.get(tag).id)


def _build_image(client: docker.DockerClient, tag: str) -> None:
    tarball = rootfs_tarball()
    with console.status(f"docker import {tag} into this engine"):
        try:
            client.api.import_image_from_file(
                str(tarball),
                repository=BUILDER_REPOSITORY,
                tag=BUILDER_RECIPE_HASH,
                changes=[f"LABEL org.stwbench.recipe={BUILDER_RECIPE_HASH}"],
            )
        except docker.errors.DockerException as exc:
            raise EnvironmentProblem(f"docker import of the builder image failed: {exc}") from exc
    console.print(f"builder image {tag} ready")


def rootfs_tarball() -> Path:
    """The image's root filesystem as a tar file, made once per recipe and kept in the
    cache: every further engine (a second local one, a remote one: the import streams it
    through the API) imports the same file instead of running debootstrap again."""
    tarball = cache.subdir("images") / f"{BUILDER_RECIPE_HASH}.tar"
    with cache.locked(f"builder-rootfs-{BUILDER_RECIPE_HASH}"):
        if not tarball.exists():
            _debootstrap(tarball)
    return tarball


def _debootstrap(tarball: Path) -> None:
    debootstrap = shutil.which("debootstrap")
    if debootstrap is None:
        raise EnvironmentProblem(
            "the docker executor makes its builder image with debootstrap, which is missing: "
            "apt-get install -y debootstrap (or use --executor local)"
        )
    if os.geteuid() != 0:
        raise EnvironmentProblem(
            f"making the builder image runs debootstrap, which needs root; run once as root "
            f"(it is then cached in {tarball}) or use --executor local"
        )
    mirror = os.environ.get("STWBENCH_DEBIAN_MIRROR", DEFAULT_MIRROR)
    log_path = cache.subdir("images") / f"{BUILDER_RECIPE_HASH}.log"
    with tempfile.TemporaryDirectory(
        prefix=f"image.{os.getpid()}.", dir=cache.subdir("tmp")
    ) as work:
        rootfs = Path(work) / "rootfs"
        partial = Path(work) / "rootfs.tar"
        command = [
            debootstrap,
            f"--variant={BUILDER_RECIPE['variant']}",
            BUILDER_RECIPE["suite"],
            str(rootfs),
            mirror,
        ]
        with (
            console.status(
                "making the builder image's root filesystem (debootstrap, ≈30 s)"
            ) as status,
            log_path.open("w") as log,
        ):
            process = subprocess.Popen(
                command,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                errors="replace",
            )
            assert process.stdout is not None
            for line in process.stdout:
                log.write(line)
                status.update(f"debootstrap: {line.strip()[:70]}")
            if process.wait() != 0:
                raise EnvironmentProblem(
                    f"debootstrap failed (exit {process.returncode}) from {mirror}; "
                    f"log {log_path}. Set STWBENCH_DEBIAN_MIRROR or use --executor local"
                )
            subprocess.run(
                ["tar", "--numeric-owner", "-C", str(rootfs), "-cf", str(partial), "."], check=True
            )
            os.replace(partial, tarball)  # same file system: the cache never holds half a tar
