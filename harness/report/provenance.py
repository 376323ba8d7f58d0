"""Where the numbers came from: toolchains, patches, machine, run order, failures.

Plain rows of strings for the template (which escapes them). Patch files are read again
at render time and checked against the sha256 the toolchain recorded, so a patch edited
after the run is flagged instead of silently shown as what was measured.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field
from pathlib import Path

from harness.rundir import GateRecord, Manifest, PatchRecord

_MAX_PATCH_BYTES = 256 * 1024  # a report stays readable; the file itself is the record


@dataclass
class PatchView:
    name: str
    path: str
    sha256: str
    variants: list[str]
    lines: list[tuple[str, str]] = field(default_factory=list)  # (css class, text)
    note: str = ""


def toolchain_rows(manifest: Manifest) -> list[dict]:
    toolchains = manifest.toolchains
    variants = {v.name: v for v in manifest.variants}
    rows = []
    for name in dict.fromkeys([*variants, *toolchains]):
        tc = toolchains.get(name)
        variant = variants.get(name)
        if tc is not None:
            patches = [{"name": p.name, "sha256": p.sha256} for p in tc.patches]
        else:
            recipe = variant.patches if variant is not None else ()
            patches = [{"name": Path(p).name, "sha256": ""} for p in recipe]
        go = tc.go_version if tc is not None else None
        if not go and variant is not None:
            go = variant.go or variant.goroot
        mode = (tc.mode if tc is not None else None) or (variant.mode if variant else None)
        gate = tc.gate if tc is not None else None
        rows.append(
            {
                "variant": str(name),
                "key": str((tc.key if tc is not None else None) or "–"),
                "go": str(go or "–"),
                "mode": str(mode or "–"),
                "executor": _executor(tc.executor if tc is not None else None),
                "patches": patches,
                "env": " ".join(f"{k}={v}" for k, v in (variant.env if variant else {}).items()),
                "gate": gate_text(gate) if tc is not None else "unknown (no toolchain record)",
                "gate_ok": bool(gate is not None and gate.passed),
                "gate_run": gate is not None,
            }
        )
    return rows


def gate_text(gate: GateRecord | None) -> str:
    if gate is None:
        return "not run"
    if gate.passed:
        return f"pass ({len(gate.tests_passed)} tests)"
    bad = [*gate.tests_failed, *gate.tests_missing]
    return "FAIL" + (f": {', '.join(bad)}" if bad else f" (exit {gate.exit_code})")


def _executor(executor) -> str:
    if not isinstance(executor, dict):
        return str(executor or "–")
    kind = str(executor.get("kind", "?"))
    extra = [
        f"{k}={str(v)[:19]}" for k, v in executor.items() if k != "kind" and v not in (None, "")
    ]
    return kind + (f" ({', '.join(extra)})" if extra else "")


def patch_views(manifest: Manifest, run_dir: Path) -> list[PatchView]:
    """Every distinct patch of every variant, with its text (or why it is missing)."""
    views: dict[str, PatchView] = {}
    for variant in manifest.variants:
        name = variant.name
        tc = manifest.toolchains.get(name)
        if tc is not None:
            recorded = tc.patches
        else:  # not built (yet): the recipe's patch files, no checksum to hold them to
            recorded = [PatchRecord(name=Path(p).name, path=p, sha256="") for p in variant.patches]
        for patch in recorded:
            key = patch.sha256 or patch.path
            if key in views:
                views[key].variants.append(name)
                continue
            views[key] = _read_patch(patch, name, run_dir)
    return list(views.values())


def _read_patch(patch: PatchRecord, variant: str, run_dir: Path) -> PatchView:
    path = patch.path
    view = PatchView(
        name=patch.name or Path(path).name,
        path=path,
        sha256=patch.sha256,
        variants=[variant],
    )
    data = None
    for candidate in _candidates(path, run_dir):
        try:
            data = candidate.read_bytes()
            break
        except OSError:
            continue
    if data is None:
        view.note = f"patch file {path or '(no path recorded)'} is not readable here"
        return view
    if view.sha256 and hashlib.sha256(data).hexdigest() != view.sha256:
        view.note = "the file has changed since the run (sha256 differs); showing it as it is now"
    if len(data) > _MAX_PATCH_BYTES:
        view.note = (view.note + "; " if view.note else "") + (
            f"truncated to the first {_MAX_PATCH_BYTES // 1024} KiB"
        )
        data = data[:_MAX_PATCH_BYTES]
    view.lines = [(_diff_class(line), line) for line in data.decode(errors="replace").splitlines()]
    return view


def _candidates(path: str, run_dir: Path) -> list[Path]:
    if not path:
        return []
    p = Path(path)
    return [p] if p.is_absolute() else [Path.cwd() / p, run_dir / p]


def _diff_class(line: str) -> str:
    if line.startswith(("+++", "---", "diff ", "index ")):
        return "file"
    if line.startswith("@@"):
        return "hunk"
    if line.startswith("+"):
        return "add"
    if line.startswith("-"):
        return "del"
    return "ctx"


def machine_rows(manifest: Manifest) -> list[tuple[str, str]]:
    """What the machine fingerprint recorded (its own keys included), nothing guessed."""
    if manifest.machine is None:
        return []
    recorded = manifest.machine.model_dump(mode="json", exclude_unset=True)
    return [(str(k), _plain(v)) for k, v in recorded.items()]


def run_rows(manifest: Manifest) -> list[tuple[str, str]]:
    """Run-level facts: id, times, status, options, benchtime per workload."""
    rows = [
        ("run_id", _plain(manifest.run_id)),
        ("status", _plain(manifest.status)),
        ("created_at", _plain(manifest.created_at)),
        ("ended_at", _plain(manifest.ended_at)),
    ]
    options = manifest.options.model_dump(mode="json")
    rows += [(f"option {k}", _plain(v)) for k, v in options.items()]
    rows += [(f"benchtime {k}", f"{v}x") for k, v in manifest.benchtime.items()]
    perf = manifest.perf
    if perf is not None and perf.requested:
        rows.append(("perf events", _plain(perf.events)))
        for event, why in perf.unavailable.items():
            rows.append((f"perf {event}", f"unavailable: {why}"))
    return rows


def order_rows(manifest: Manifest) -> list[dict]:
    rows = []
    for item in manifest.order:
        process = manifest.processes.get(item.slug)
        duration = process.duration_s if process is not None else None
        # The noise guard's figures (harness/runs/noise.py); None in older runs.
        interference = process.interference_cores if process is not None else None
        rows.append(
            {
                "index": str(item.index),
                "variant": item.variant,
                "workload": item.workload,
                "gomaxprocs": str(item.gomaxprocs),
                "rep": str(item.rep),
                "status": process.status if process is not None else "not run",
                "duration": f"{duration:.2f} s" if _number(duration) else "–",
                "interference": f"{interference:.2f}" if _number(interference) else "–",
                "attempts": str(len(process.attempts)) if process is not None else "–",
                "noisy": bool(process is not None and process.noisy),
                "engine": (process.engine if process is not None else None) or "",
            }
        )
    return rows


def failure_rows(manifest: Manifest) -> list[dict]:
    rows = [
        {
            "process": str(slug),
            "status": p.status,
            "exit_code": "–" if p.exit_code is None else str(p.exit_code),
            "reason": p.reason or "",
        }
        for slug, p in manifest.processes.items()
        if p.status != "ok"
    ]
    for variant, builds in manifest.builds.items():
        for workload, build in builds.items():
            if build.error:
                rows.append(
                    {
                        "process": f"{variant}/{workload} (build)",
                        "status": "build-failed",
                        "exit_code": "–",
                        "reason": build.error,
                    }
                )
    return rows


def warning_rows(warnings: list[dict]) -> list[dict]:
    return [
        {
            "process": str(w.get("process", "")),
            "parser": str(w.get("parser", "")),
            "skipped": str(w.get("skipped", "")),
            "examples": [str(e) for e in w.get("examples") or []],
        }
        for w in warnings
        if isinstance(w, dict)
    ]


def _plain(value) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.3g}"
    if isinstance(value, list | tuple):
        return ", ".join(_plain(v) for v in value) or "–"
    if isinstance(value, dict):
        return ", ".join(f"{k}={_plain(v)}" for k, v in value.items()) or "–"
    return str(value)


def _number(value) -> bool:
    return isinstance(value, int | float) and math.isfinite(value)
