"""Writing files so that a reader, or a writer killed halfway, never sees half of one.

Every durable file the harness writes (manifests, status files, trace records, toolchain
provenance, the `latest` link) goes through here, so there is one way to do it."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from harness.errors import UsageError


def atomic_write_text(path: Path, text: str, *, fsync: bool = False) -> Path:
    """Write `text` to a unique temporary file beside `path`, then rename it over `path`:
    a reader sees the old file or the new one. `fsync` when the file marks something
    final (a process's status.json), so a crash cannot leave it empty."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
            if fsync:
                handle.flush()
                os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def atomic_write_json(path: Path, data: Any, *, compact: bool = False, fsync: bool = False) -> Path:
    text = (
        json.dumps(data, separators=(",", ":"))
        if compact
        else json.dumps(data, indent=2, sort_keys=True) + "\n"
    )
    return atomic_write_text(path, text, fsync=fsync)


def atomic_symlink(link: Path, target: str) -> None:
    """Point `link` at `target` (relative), replacing an older link in one rename."""
    tmp = link.with_name(f".{link.name}.{os.getpid()}.tmp")
    if tmp.is_symlink() or tmp.exists():
        tmp.unlink()
    tmp.symlink_to(target)
    os.replace(tmp, link)


def read_json_object(path: Path, *, missing: str) -> dict:
    """A JSON object file the harness wrote (a manifest, a sweep plan): a UsageError
    naming the file when it is absent (`missing` says what that means), unreadable, or not
    an object — exit 2, never a traceback."""
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise UsageError(missing) from None
    except (OSError, json.JSONDecodeError) as exc:
        raise UsageError(f"{path}: cannot read it as JSON: {exc}") from None
    if not isinstance(data, dict):
        raise UsageError(f"{path}: want a JSON object, got {type(data).__name__}")
    return data
