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

from harness.report.derive import process_slugs

_MAX_PATCH_BYTES = 256 * 1024  # a report stays readable; the file itself is the record


@dataclass
class PatchView:
    name: str
    path: str
    sha256: str
    variants: list[str]
    lines: list[tuple[str, str]] = field(default_factory=list)  # (css class, text)
    note: str = ""


def toolchain_rows(manifest: dict) -> list[dict]:
    toolchains = manifest.get("toolchains") or {}
    variants = {v.get("name"): v for v in manifest.get("variants", [])}
    rows = []
    for name in dict.fromkeys([*variants, *toolchains]):
        tc = toolchains.get(name) or {}
        variant = variants.get(name) or {}
        patches = tc.get("patches")
        if patches is None:
            patches = [{"name": Path(p).name, "sha256": ""} for p in variant.get("patches", [])]
        rows.append(
            {
                "variant": str(name),
                "key": str(tc.get("key") or "–"),
                "go": str(
                    tc.get("go_version") or variant.get("go") or variant.get("goroot") or "–"
                ),
                "mode": str(tc.get("mode") or variant.get("mode") or "–"),
                "executor": _executor(tc.get("executor")),
                "patches": [
                    {"name": str(p.get("name", "")), "sha256": str(p.get("sha256", ""))}
                    for p in patches
                ],
                "env": " ".join(f"{k}={v}" for k, v in (variant.get("env") or {}).items()),
                "gate": gate_text(tc.get("gate")) if tc else "unknown (no toolchain record)",
                "gate_ok": bool((tc.get("gate") or {}).get("passed")),
                "gate_run": tc.get("gate") is not None,
            }
        )
    return rows


def gate_text(gate: dict | None) -> str:
    if gate is None:
        return "not run"
    if gate.get("passed"):
        return f"pass ({len(gate.get('tests_passed') or [])} tests)"
    bad = [*(gate.get("tests_failed") or []), *(gate.get("tests_missing") or [])]
    return "FAIL" + (f": {', '.join(bad)}" if bad else f" (exit {gate.get('exit_code')})")


def _executor(executor) -> str:
    if not isinstance(executor, dict):
        return str(executor or "–")
    kind = str(executor.get("kind", "?"))
    extra = [
        f"{k}={str(v)[:19]}" for k, v in executor.items() if k != "kind" and v not in (None, "")
    ]
    return kind + (f" ({', '.join(extra)})" if extra else "")


def patch_views(manifest: dict, run_dir: Path) -> list[PatchView]:
    """Every distinct patch of every variant, with its text (or why it is missing)."""
    views: dict[str, PatchView] = {}
    toolchains = manifest.get("toolchains") or {}
    for variant in manifest.get("variants", []):
        name = str(variant.get("name"))
        recorded = (toolchains.get(name) or {}).get("patches")
        if recorded is None:
            recorded = [
                {"path": p, "name": Path(p).name, "sha256": ""} for p in variant.get("patches", [])
            ]
        for patch in recorded:
            key = patch.get("sha256") or str(patch.get("path"))
            if key in views:
                views[key].variants.append(name)
                continue
            views[key] = _read_patch(patch, name, run_dir)
    return list(views.values())


def _read_patch(patch: dict, variant: str, run_dir: Path) -> PatchView:
    path = str(patch.get("path") or "")
    view = PatchView(
        name=str(patch.get("name") or Path(path).name),
        path=path,
        sha256=str(patch.get("sha256") or ""),
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


def machine_rows(manifest: dict) -> list[tuple[str, str]]:
    machine = manifest.get("machine") or {}
    return [(str(k), _plain(v)) for k, v in machine.items()]


def run_rows(manifest: dict) -> list[tuple[str, str]]:
    """Run-level facts: id, times, status, options, benchtime per workload."""
    rows = [
        (key, _plain(manifest[key]))
        for key in ("run_id", "status", "created_at", "ended_at")
        if key in manifest
    ]
    rows += [(f"option {k}", _plain(v)) for k, v in (manifest.get("options") or {}).items()]
    rows += [(f"benchtime {k}", f"{v}x") for k, v in (manifest.get("benchtime") or {}).items()]
    perf = manifest.get("perf") or {}
    if perf.get("requested"):
        rows.append(("perf events", _plain(perf.get("events"))))
        for event, why in (perf.get("unavailable") or {}).items():
            rows.append((f"perf {event}", f"unavailable: {why}"))
    return rows


def order_rows(manifest: dict) -> list[dict]:
    processes = manifest.get("processes") or {}
    slugs = process_slugs(manifest)
    rows = []
    for item in manifest.get("order", []):
        key = (item.get("variant"), item.get("workload"), item.get("gomaxprocs"), item.get("rep"))
        process = processes.get(slugs.get(key, ""), {})
        duration = process.get("duration_s")
        interference = process.get("interference_cores")
        rows.append(
            {
                "index": str(item.get("index", "")),
                "variant": str(item.get("variant", "")),
                "workload": str(item.get("workload", "")),
                "gomaxprocs": str(item.get("gomaxprocs", "")),
                "rep": str(item.get("rep", "")),
                "status": str(process.get("status") or "not run"),
                "duration": f"{duration:.2f} s" if _number(duration) else "–",
                # The noise guard's figures (harness/runs/noise.py); absent in older runs.
                "interference": f"{interference:.2f}" if _number(interference) else "–",
                "attempts": str(len(process["attempts"] or [])) if "attempts" in process else "–",
                "noisy": bool(process.get("noisy")),
            }
        )
    return rows


def failure_rows(manifest: dict) -> list[dict]:
    rows = [
        {
            "process": str(slug),
            "status": str(p.get("status")),
            "exit_code": "–" if p.get("exit_code") is None else str(p.get("exit_code")),
            "reason": str(p.get("reason") or ""),
        }
        for slug, p in (manifest.get("processes") or {}).items()
        if p.get("status") != "ok"
    ]
    for variant, builds in (manifest.get("builds") or {}).items():
        for workload, build in (builds or {}).items():
            if (build or {}).get("error"):
                rows.append(
                    {
                        "process": f"{variant}/{workload} (build)",
                        "status": "build-failed",
                        "exit_code": "–",
                        "reason": str(build["error"]),
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
