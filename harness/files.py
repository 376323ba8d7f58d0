"""Writing files so that a reader, or a writer killed halfway, never sees half of one.

Every durable file the harness writes (manifests, status files, trace records, toolchain
provenance, the `latest` link) goes through here, so there is one way to do it."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any


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
