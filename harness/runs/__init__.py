"""Runs: variant × workload × rep, one fresh process each, interleaved and randomized.

Public API (other stages import from here, never from the modules):

    run = create_run(out, variants, workloads, RunOptions(reps=10))  # a new run directory
    code = execute_run(run)           # raw/ + manifest.json, resumable; 0 or 3
    run = load_run(run_dir)           # continue a killed run (`--resume`)
    extend_run(run, blocks)           # append whole blocks (adaptive reps)
    parse_engines("a=unix:///…#cpus=0,tcp://box:2376")  # RunOptions.engines (run executor docker)
"""

from harness.rundir import RunOptions
from harness.runs.compile import default_workloads_dir
from harness.runs.engines import engines_from_toml, parse_engines
from harness.runs.runner import (
    EXIT_FAILED_CHECK,
    EXIT_PROCESS_FAILURES,
    Run,
    block_size,
    create_run,
    execute_run,
    extend_run,
    load_run,
)
from harness.runs.variants import (
    patches_want_claims,
    toolchain_spec,
    variants_from_flags,
    variants_from_toml,
    with_baseline,
    with_env,
)
from harness.runs.workloads import (
    PROBE,
    PROBE_SCENARIOS,
    SUITES,
    quick_workloads,
    resolve_workloads,
)

__all__ = [
    "EXIT_FAILED_CHECK",
    "EXIT_PROCESS_FAILURES",
    "PROBE",
    "PROBE_SCENARIOS",
    "SUITES",
    "Run",
    "RunOptions",
    "block_size",
    "create_run",
    "default_workloads_dir",
    "engines_from_toml",
    "execute_run",
    "extend_run",
    "load_run",
    "parse_engines",
    "patches_want_claims",
    "quick_workloads",
    "resolve_workloads",
    "toolchain_spec",
    "variants_from_flags",
    "variants_from_toml",
    "with_baseline",
    "with_env",
]
