"""Entry points: `nox -s bench` (the A/B report), `nox -s tests` (what CI runs), `nox -s lint`,
`nox -s nightly` (one night of the nightly regression job)."""

from __future__ import annotations

import nox

nox.options.sessions = ["lint", "tests"]
nox.options.reuse_existing_virtualenvs = True


@nox.session
def tests(session: nox.Session) -> None:
    """The whole suite, real toolchains included (first run builds with make.bash)."""
    # Editable: the tests and the harness use go_workloads/ and patches/ of this checkout.
    session.install("-e", ".[test]")
    session.run("pytest", *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    session.install("ruff")
    session.run("ruff", "check", "harness", "tests", "benchmarks", "noxfile.py")
    session.run("ruff", "format", "--check", "harness", "tests", "benchmarks", "noxfile.py")


# `nox -s bench`'s settings, in one place: benchmarks/injected_slowdowns.py reads them to
# prove what this default can see. Adaptive reps: 10 blocks first, then more until every
# headline CI is within ±2 %, at most 40 reps, and no block started that would end past
# 8.5 min of `ab`. Measured on 2 vCPUs with make-mode toolchains (`stwbench run --go
# 1.27.3 --patch patches/runqget-priority.patch --reps 2 --target-seconds 0.5`: 34 s wall,
# 27-28 s of it processes): one block of the default suite (20 processes) takes ≈ 13.5 s
# on a quiet machine (≈ 11.5-14 s when a test suite runs beside it: calibration then picks
# a smaller N, and the noise guard re-runs); a precision check takes ≈ 4 s at 10 reps and
# ≈ 12 s at 30; the final analysis + report ≈ 24 s at 30 reps; a warm `nox -s bench` adds
# ≈ 8 s of its own. A warm `nox -s bench` took 8.6 min in all: 10 → 15 → 23 → 30 reps,
# stopped on the budget (STW tails stay far wider than ±2 %; ns/op rows get there).
BENCH_ARGS = ["--go", "1.27.3", "--patch", "patches/runqget-priority.patch"]
BENCH_ARGS += ["--reps", "10", "--target-seconds", "0.5"]
# The probe scenarios' start latency by GC phase needs the execution tracer; summarizing a
# 2 s trace takes ≈ 7 s, so only the first blocks are traced (both arms alike).
BENCH_ARGS += ["--trace", "--trace-reps", "6"]
ADAPTIVE_ARGS = ["--until-ci", "2", "--max-reps", "40", "--budget", "10"]


@nox.session
def bench(session: nox.Session) -> None:
    """go1.27.3 baseline vs runqget-priority: build (make, executor auto), run, report.

    Extra arguments go to `stwbench ab`, e.g. `nox -s bench -- --quick` or `-- --aa`.
    """
    session.install(".")
    adaptive = [] if "--quick" in session.posargs else ADAPTIVE_ARGS
    session.run("stwbench", "ab", *BENCH_ARGS, *adaptive, *session.posargs)


@nox.session
def nightly(session: nox.Session) -> None:
    """One night of the nightly job: the series of nightly.toml → results/nightly/.

    The history is results/history.sqlite unless STWBENCH_HISTORY_DB or `-- --db URL`
    says otherwise; keep it between nights (README "Nightly regression reports").
    Extra arguments go to `stwbench nightly`, e.g. `nox -s nightly -- --fail-on-regression`.
    """
    session.install(".")
    session.run("stwbench", "nightly", "--config", "nightly.toml", *session.posargs)
