"""The stages talk through each other's public API only (DEVELOPERS.md "Style").

A stage is a package under harness/ (runs, toolchains, parse, stats, report, history,
commands, kinds, rundir); its `__init__` is its public API, its modules are private. A
module of one stage may import another stage's package (`from harness.parse import …`),
never one of its modules (`from harness.parse.trace import …`). Top-level modules
(harness/tables.py, analyze.py, metrics.py, …) are shared single-job modules and count as
their own stage. Walks every import statement, including those inside functions.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

HARNESS = Path(__file__).resolve().parents[1] / "harness"


def _stage_of(module: str, root: Path) -> tuple[str, bool]:
    """(stage, is_private_module) of a dotted harness module name."""
    parts = module.split(".")
    if len(parts) >= 2 and (root / parts[1]).is_dir():
        return parts[1], len(parts) >= 3
    return ".".join(parts[:2]), False


def _imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
        elif isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
    return [(line, name) for line, name in found if name.split(".")[0] == "harness"]


def violations(root: Path = HARNESS) -> list[str]:
    bad = []
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root.parent).with_suffix("")
        mine, _ = _stage_of(".".join(rel.parts), root)
        for line, module in _imports(path):
            stage, private = _stage_of(module, root)
            if private and stage != mine:
                bad.append(f"{rel}.py:{line} imports {module} (use harness.{stage})")
    return bad


def test_no_stage_imports_another_stages_private_module():
    assert violations() == []


def test_the_walk_finds_a_private_import(tmp_path: Path):
    """The check itself can fail: a report module reaching into parse.trace is caught."""
    pkg = tmp_path / "harness"
    for stage in ("report", "parse"):
        (pkg / stage).mkdir(parents=True)
        (pkg / stage / "__init__.py").write_text("")
    (pkg / "parse" / "trace.py").write_text("X = 1\n")
    (pkg / "report" / "views.py").write_text(
        "def f():\n    from harness.parse.trace import X\n    return X\n"
    )
    (pkg / "report" / "ok.py").write_text(
        "from harness.parse import X\nfrom harness.report import views\n"
    )
    assert violations(pkg) == [
        "harness/report/views.py:2 imports harness.parse.trace (use harness.parse)"
    ]


MANIFEST_KEYS = (
    "variants", "workloads", "options", "order", "processes", "toolchains", "builds",
    "benchtime", "isolation", "machine", "noise", "adaptive", "sessions", "gate", "perf",
    "nightly", "run_id", "status", "schema",
)  # fmt: skip


@pytest.mark.parametrize("key", MANIFEST_KEYS)
def test_no_manifest_key_is_read_as_a_dict_outside_the_contract(key: str):
    """`manifest["variants"]`, `manifest.get("options")`, `m.get(...)` style reads live
    only in harness/rundir (the migrations read the raw JSON on purpose)."""
    needles = (f'manifest["{key}"]', f'manifest.get("{key}"', f'm.get("{key}"', f'm["{key}"]')
    hits = [
        f"{path.relative_to(HARNESS.parent)}:{n}"
        for path in HARNESS.rglob("*.py")
        if "rundir" not in path.parts
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if any(needle in line for needle in needles)
    ]
    assert hits == []
