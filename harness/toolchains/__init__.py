"""Toolchains: Go sources + patch series → built, verified, cached GOROOTs.

Public API (everything else in this package is internal):

    spec = ToolchainSpec(go="1.27.3", patches=(Path("patches/runqget-priority.patch"),))
    toolchain = build(spec)         # cache hit or fresh build; toolchain.goroot, .key
    result = run_gate(toolchain)    # sanity gate, recorded in provenance.json
"""

from harness.toolchains.builder import (
    Toolchain,
    ToolchainSpec,
    build,
    find_toolchain,
    list_toolchains,
)
from harness.toolchains.executors.image import ensure_builder_image
from harness.toolchains.gate import GATE_TESTS, gate_is_current, recorded_gate, run_gate
from harness.toolchains.goenv import go_env
from harness.toolchains.knobs import check_knobs, registered_settings
from harness.toolchains.sources import first_parent_commits, resolve_commit, tree_sha256

__all__ = [
    "GATE_TESTS",
    "Toolchain",
    "ToolchainSpec",
    "build",
    "check_knobs",
    "ensure_builder_image",
    "find_toolchain",
    "first_parent_commits",
    "gate_is_current",
    "go_env",
    "list_toolchains",
    "recorded_gate",
    "registered_settings",
    "resolve_commit",
    "run_gate",
    "tree_sha256",
]
