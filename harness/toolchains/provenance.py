"""provenance.json: everything needed to say what a toolchain is and how it was made."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from harness.files import atomic_write_json

PROVENANCE = "provenance.json"


@dataclass
class Provenance:
    key: str
    go_version: str  # requested, e.g. "1.27.3"
    mode: str  # "make" | "source"
    source: dict  # GoSource.to_json()
    patches: list[dict]  # [{"name", "path", "sha256"}], in application order
    executor: dict  # executor.describe(); {"kind": "none"} in source mode
    build_env: dict[str, str]
    build_log: str | None
    build_wall_s: float
    created_at: str
    verification: dict
    cache_inputs: dict  # exactly what was hashed into `key`
    gate: dict | None = None  # filled by `stwbench toolchain check`
    extra: dict = field(default_factory=dict)

    def to_json(self) -> dict:
        return asdict(self)


def write(entry: Path, data: dict) -> None:
    atomic_write_json(entry / PROVENANCE, data)


def read(entry: Path) -> dict:
    return json.loads((entry / PROVENANCE).read_text())
