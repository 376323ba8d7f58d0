"""The run options as command-line flags: one table maps each flag to its RunOptions
field, whose default and limits (harness/rundir/models.py) are the only ones. `run`,
`ab` and `nightly` build their RunOptions here, so a bad value is one UsageError (exit 2)
naming the flag, whichever command got it."""

from __future__ import annotations

import argparse
from pathlib import Path

from pydantic import ValidationError

from harness.errors import UsageError
from harness.rundir import RunOptions
from harness.runs import engines_from_toml, parse_engines

# flag → RunOptions field (flags whose value is the field's as given)
FLAGS: dict[str, str] = {
    "--reps": "reps",
    "--gomaxprocs": "gomaxprocs",
    "--seed": "seed",
    "--perf": "perf",
    "--keep-raw": "keep_raw",
    "--timeout": "timeout_s",
    "--cpus": "cpus",
    "--executor": "executor",
    "--target-seconds": "target_s",
    "--probe-duration": "probe_duration_s",
    "--trace": "trace",
    "--trace-reps": "trace_reps",
    "--trace-after-stw-us": "trace_after_stw_us",
    "--equivalence": "equivalence",
    "--max-interference": "max_interference_cores",
    "--max-steal": "max_steal_cores",
    "--noise-retries": "noise_retries",
    "--claims": "claims",
    "--run-executor": "run_executor",
}


def default(field: str):
    """The RunOptions default of a field (for argparse and help texts)."""
    info = RunOptions.model_fields[field]
    return info.get_default(call_default_factory=True)


def build_options(given: dict, *, source: str = "flags") -> RunOptions:
    """RunOptions from {field: value} (None: not given, the default applies); a value the
    model refuses is a UsageError naming the flag (or `source`'s key)."""
    values = {k: v for k, v in given.items() if v is not None}
    try:
        return RunOptions(**values)
    except ValidationError as exc:
        by_field = {field: flag for flag, field in FLAGS.items()}
        problems = []
        for error in exc.errors(include_url=False):
            field = str(error["loc"][0]) if error["loc"] else ""
            name = by_field.get(field, field) if source == "flags" else field
            got = f" (got {error['input']!r})" if "input" in error else ""
            problems.append(f"{name}: {error['msg'].removeprefix('Value error, ')}{got}")
        raise UsageError(f"{source}: " + "; ".join(problems)) from None


def options_from_args(args: argparse.Namespace) -> RunOptions:
    """The run's options from the shared run flags (add_run_arguments)."""
    if args.trace_reps is not None and not args.trace:
        raise UsageError("--trace-reps N goes with --trace")
    given = {field: getattr(args, _dest(flag), None) for flag, field in FLAGS.items()}
    given["gomaxprocs"] = _gomaxprocs(args.gomaxprocs) if args.gomaxprocs else None
    given["schedtrace"] = "detail" if args.scheddetail else ("on" if args.schedtrace else None)
    given["gate"] = False if args.no_gate else None
    for flag in ("--perf", "--keep-raw", "--trace", "--claims"):  # store_true: False = unset
        given[FLAGS[flag]] = True if getattr(args, _dest(flag), False) else None
    engines = getattr(args, "engines", None)
    if engines:
        if given["run_executor"] == "local":
            raise UsageError(
                "--engines runs processes in containers: not with --run-executor local"
            )
        given["engines"] = engine_specs(engines)
        given["run_executor"] = "docker"
    return build_options(given)


def engine_specs(text: str) -> list:
    """`--engines`: a comma list of engine URLs, or a TOML file of [[engine]] tables."""
    path = Path(text)
    if text.endswith(".toml") or path.is_file():
        if not path.is_file():
            raise UsageError(f"--engines: no file {path}")
        specs = engines_from_toml(path)
        if not specs:
            raise UsageError(f"--engines: {path} has no [[engine]] table")
        return specs
    return parse_engines(text)


def _dest(flag: str) -> str:
    return flag.removeprefix("--").replace("-", "_")


def _gomaxprocs(text: str) -> list[int]:
    try:
        return [int(v) for v in text.split(",") if v.strip()]
    except ValueError as exc:
        raise UsageError(f"--gomaxprocs wants a comma list of integers, got {text!r}") from exc
