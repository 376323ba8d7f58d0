"""The run options as command-line flags: one table maps each flag to its RunOptions
field, whose default and limits (harness/rundir/models.py) are the only ones. `run`,
`ab` and `nightly` build their RunOptions here, so a bad value is one UsageError (exit 2)
naming the flag, whichever command got it."""

from __future__ import annotations

import argparse

from pydantic import ValidationError

from harness.errors import UsageError
from harness.rundir import RunOptions

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
    return build_options(given)


def _dest(flag: str) -> str:
    return flag.removeprefix("--").replace("-", "_")


def _gomaxprocs(text: str) -> list[int]:
    try:
        return [int(v) for v in text.split(",") if v.strip()]
    except ValueError as exc:
        raise UsageError(f"--gomaxprocs wants a comma list of integers, got {text!r}") from exc
