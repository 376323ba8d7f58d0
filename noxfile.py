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
    session.run("ruff", "check", "harness", "tests", "noxfile.py")
    session.run("ruff", "format", "--check", "harness", "tests", "noxfile.py")


@nox.session
def bench(session: nox.Session) -> None:
    """go1.27.3 baseline vs runqget-priority: build (make, executor auto), run, report.

    Extra arguments go to `stwbench ab`, e.g. `nox -s bench -- --quick` or `-- --aa`.
    """
    session.install(".")
    # 20 processes per arm at 0.5 s each: every (benchmark, metric) row is tested and
    # Benjamini-Hochberg runs over ~100 rows, so 10 reps rarely reach q < 0.05 even for a
    # -80% tail change (measured: p = 0.003, q = 0.21); 20 reps do, in ≈ 8 minutes.
    session.run(
        "stwbench",
        "ab",
        "--go",
        "1.27.3",
        "--patch",
        "patches/runqget-priority.patch",
        "--reps",
        "20",
        "--target-seconds",
        "0.5",
        *session.posargs,
    )


@nox.session
def nightly(session: nox.Session) -> None:
    """One night of the nightly job: the series of nightly.toml → results/nightly/.

    The history is results/history.sqlite unless STWBENCH_HISTORY_DB or `-- --db URL`
    says otherwise; keep it between nights (README "Nightly regression reports").
    Extra arguments go to `stwbench nightly`, e.g. `nox -s nightly -- --fail-on-regression`.
    """
    session.install(".")
    session.run("stwbench", "nightly", "--config", "nightly.toml", *session.posargs)
