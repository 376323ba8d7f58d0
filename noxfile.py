"""Entry points: `nox -s bench` (the A/B report), `nox -s tests` (what CI runs), `nox -s lint`,
`nox -s nightly` (one night of the nightly regression job)."""

from __future__ import annotations

import os
from pathlib import Path

import nox

nox.options.sessions = ["lint", "tests"]
nox.options.reuse_existing_virtualenvs = True


@nox.session
def tests(session: nox.Session) -> None:
    """The whole suite, real toolchains included (first run builds with make.bash).

    First `.ci/provision` makes the machine able to run it (as root: installs Docker,
    PostgreSQL, perf, Chromium when missing, starts dockerd and the PostgreSQL cluster;
    otherwise it names what is missing and stops). `STWBENCH_NO_PROVISION=1` skips that
    step for a machine you set up yourself. The fast lane: `nox -s tests -- -m "not slow"`.
    """
    if not os.environ.get("STWBENCH_NO_PROVISION"):
        env_file = Path(session.create_tmp()) / "provision.env"
        session.run("bash", ".ci/provision", str(env_file), external=True)
        for line in env_file.read_text().splitlines():
            name, _, value = line.partition("=")
            session.env[name] = value
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
# 10 min of `ab`. Measured on 2 vCPUs with make-mode toolchains (run 20261201-125426): the
# default suite is 24 processes a block (12 workloads × 2 variants, three of them 2 s
# probe scenarios); the first 6 blocks trace their probes (≈ 7 s to summarize each trace),
# mean block 56.5 s over the 10; a warm `nox -s bench` took 10.9 min, 10 reps, stopped on
# the budget. Before the probe scenarios and tracing (20 processes a block, ≈ 13.5 s) the
# same budget reached ≈ 30 reps: `--trace-reps` and `--budget` trade GC-phase pairs
# against ns/op precision.
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
