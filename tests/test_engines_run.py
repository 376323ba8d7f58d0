"""Runs over two real Docker engines on this machine: the default one and the second
dockerd `.ci/provision` starts (its own socket, data root, exec root, pid file, no
bridge), each pinned to its own CPU, standing for two machines. The lost-engine test
starts a third, private dockerd and kills it mid-run."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import time
from collections import Counter
from pathlib import Path

import docker
import pytest

from harness.rundir import layout
from tests.conftest import GO, REPO, kill_when, start_stwbench, stwbench
from tests.test_report import assert_fetches_nothing, headless, page_errors

pytestmark = pytest.mark.slow

SLOW = REPO / "tests" / "patches" / "test-only-slow-newproc.patch"


@pytest.fixture(scope="module")
def second_engine(docker_available) -> str:
    url = os.environ.get("STWBENCH_TEST_ENGINE2")
    if not url:
        if os.environ.get("STWBENCH_TESTS_NO_DOCKER") == "1":
            pytest.skip("no second engine and STWBENCH_TESTS_NO_DOCKER=1")
        pytest.fail("STWBENCH_TEST_ENGINE2 is not set: run the suite through nox -s tests")
    docker.DockerClient(base_url=url).ping()
    return url


def engines_arg(second: str, first: str = "env") -> str:
    return f"a={first}#cpus=0,b={second}#cpus=1"


def ab_args(out: Path, engines: str, *extra: object) -> list[object]:
    """A quick A/B of a known regression (+20 µs per `go f()`): every process in a
    container, GOMAXPROCS 1 on the one CPU of its engine. The noise guard is off: two
    engines on one 2-CPU machine disturb each other by design, and this tests sharding."""
    return [
        "ab",
        "--go",
        GO,
        "--patch",
        SLOW,
        "--mode",
        "source",
        "--no-gate",
        "--quick",
        "--gomaxprocs",
        "1",
        "--seed",
        "3",
        "--noise-retries",
        "0",
        "--engines",
        engines,
        "--out",
        out,
        *extra,
    ]


def manifest_of(run_dir: Path) -> dict:
    return json.loads((run_dir / layout.MANIFEST).read_text())


def assert_whole_blocks(manifest: dict) -> dict[int, str]:
    """Every planned process finished once, ok, and each block on one engine; rep → engine."""
    order = manifest["order"]
    processes = manifest["processes"]
    slugs = [_slug(item) for item in order]
    assert sorted(processes) == sorted(slugs)  # none lost, none extra
    engines: dict[int, set[str]] = {}
    for item, slug in zip(order, slugs, strict=True):
        record = processes[slug]
        assert record["status"] == "ok", (slug, record)
        engines.setdefault(item["rep"], set()).add(record["engine"])
    assert all(len(names) == 1 for names in engines.values()), engines
    return {rep: names.pop() for rep, names in engines.items()}


def _slug(item: dict) -> str:
    return (
        f"{item['variant']}/{item['workload']}/gomaxprocs{item['gomaxprocs']}-rep{item['rep']:03d}"
    )


def finished_dirs(run_dir: Path) -> list[Path]:
    raw = run_dir / layout.RAW
    return [p.parent for p in raw.glob("*/*/*/status.json") if layout.REJECTED not in p.parts]


def test_a_sharded_quick_ab_over_two_engines_gives_per_machine_and_combined_verdicts(
    second_engine, tmp_path
):
    started = time.monotonic()
    result = stwbench(*ab_args(tmp_path / "out", engines_arg(second_engine)))
    assert result.returncode == 0, result.stderr[-3000:]
    report = Path(result.stdout.strip())
    run_dir = report.parent
    manifest = manifest_of(run_dir)
    assert manifest["schema"] == 4 and manifest["options"]["run_executor"] == "docker"
    by_rep = assert_whole_blocks(manifest)
    # Both engines ran blocks; the manifest says which, and what each machine is.
    assert set(by_rep.values()) == {"a", "b"}
    for name, cpu in (("a", 0), ("b", 1)):
        engine = manifest["engines"][name]
        assert engine["state"] == "ok" and engine["cpus"] == str(cpu)
        assert engine["machine"]["affinity"] == [cpu]  # the probe container's own CPU set
        assert engine["machine"]["cores"] == os.cpu_count()
        assert sorted(engine["blocks"]) == sorted(r for r, e in by_rep.items() if e == name)
    assert len(finished_dirs(run_dir)) == len(manifest["order"])
    # The processes really ran in containers: GOMAXPROCS 1, no perf, host paths intact.
    status = json.loads(next(run_dir.glob("raw/*/Scheduler/*/status.json")).read_text())
    assert status["env"]["GOMAXPROCS"] == "1" and status["interference_cores"] is not None
    assert manifest["isolation"]["reason"] == "containers: a on CPUs 0; b on CPUs 1"
    # Combined verdicts pool every block; per-machine rows use each engine's own.
    summary = json.loads((run_dir / "summary.json").read_text())
    combined = {(r["benchmark"], r["metric"]): r for r in summary["comparisons"]}
    assert combined[("Scheduler", "ns/op")]["verdict"] == "worse"
    assert combined[("Scheduler", "ns/op")]["n_pairs"] == manifest["options"]["reps"]
    machines = summary["machines"]
    assert set(machines["blocks"]) == {"a", "b"}
    per = {
        r["machine"]: r
        for r in machines["comparisons"]
        if (r["benchmark"], r["metric"]) == ("Scheduler", "ns/op")
    }
    assert set(per) == {"a", "b"}
    for name, row in per.items():
        blocks = len(machines["blocks"][name])
        assert row["n_baseline"] == row["n_candidate"] == blocks
        assert row["n_pairs"] == (blocks if blocks >= 3 else 0)  # < 3 pairs: unpaired test
        assert row["ratio"] > 1.5  # the regression is seen on each machine
    html = report.read_text()
    assert 'id="engine-a"' in html and 'id="engine-b"' in html
    assert_fetches_nothing(html)
    shown = headless(report, tmp_path / "profile", "--dump-dom")
    assert shown.returncode == 0, shown.stderr[-2000:]
    assert page_errors(shown.stdout) == [] and 'data-engine="b"' in shown.stdout
    print(f"sharded quick ab: {time.monotonic() - started:.0f} s")


def test_a_killed_sharded_run_resumes_with_every_block_whole(second_engine, tmp_path):
    out = tmp_path / "out"

    def some_done() -> bool:
        runs = [p for p in out.glob("2*") if (p / layout.MANIFEST).exists()]
        return bool(runs) and len(manifest_of(runs[0]).get("processes", {})) >= 7

    kill_when(ab_args(out, engines_arg(second_engine)), some_done)
    (run_dir,) = [p for p in out.glob("2*") if p.is_dir()]
    before = manifest_of(run_dir)
    kept = {slug: p["engine"] for slug, p in before["processes"].items()}
    result = stwbench("ab", "--resume", run_dir)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "already on disk" in result.stdout + result.stderr
    after = manifest_of(run_dir)
    assert_whole_blocks(after)
    # Nothing finished was redone, and a half-done block finished on its own engine.
    for slug, engine in kept.items():
        assert after["processes"][slug]["engine"] == engine
    assert len(after["sessions"]) == 2
    for url in ("env", second_engine):
        client = docker.from_env() if url == "env" else docker.DockerClient(base_url=url)
        left = client.containers.list(
            all=True, filters={"label": f"org.stwbench.run={after['run_id']}"}
        )
        assert left == []


# --- an engine lost mid-run -----------------------------------------------------------


@contextlib.contextmanager
def private_dockerd(*extra: str):
    """A dockerd of the test's own: socket, data root, exec root and pid file under /run
    and /var/tmp, no bridge; yields (its unix URL, a function that SIGKILLs it). The
    runner image comes from the cached rootfs tarball on first use."""
    if os.geteuid() != 0:
        pytest.skip("starting a dockerd needs root")
    tag = f"stwbench-d3-{os.getpid()}"
    sock, exec_root, pidfile = f"/run/{tag}.sock", f"/run/{tag}", f"/run/{tag}.pid"
    data_root = Path("/var/tmp") / tag
    log = (data_root.parent / f"{tag}.log").open("w")
    process = subprocess.Popen(
        ["dockerd", "--host", f"unix://{sock}", "--data-root", str(data_root),
         "--exec-root", exec_root, "--pidfile", pidfile, "--bridge=none",
         "--iptables=false", "--ip-masq=false", *extra],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )  # fmt: skip
    for _ in range(60):
        with contextlib.suppress(Exception):  # the socket appears when it is ready
            docker.DockerClient(base_url=f"unix://{sock}", timeout=10).ping()
            break
        time.sleep(1)
    else:
        process.kill()
        pytest.fail(f"the private dockerd did not come up: {Path(log.name).read_text()[-2000:]}")

    def kill() -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)  # dockerd and its containerd
        process.wait(timeout=60)

    try:
        yield f"unix://{sock}", kill
    finally:
        kill()
        # The shims and the containers they ran outlive a killed daemon: end them too.
        subprocess.run(["pkill", "-9", "-f", exec_root], check=False)
        time.sleep(1)
        for line in reversed(Path("/proc/mounts").read_text().split("\n")):
            fields = line.split()
            if len(fields) > 1 and fields[1].startswith((str(data_root), exec_root)):
                subprocess.run(["umount", "-l", fields[1]], check=False)
        shutil.rmtree(data_root, ignore_errors=True)
        shutil.rmtree(exec_root, ignore_errors=True)
        log.close()


@pytest.fixture
def third_engine(docker_available):
    with private_dockerd() as engine:
        yield engine


def test_an_engine_lost_mid_run_loses_nothing_its_blocks_finish_on_the_other(
    third_engine, tmp_path
):
    url, kill = third_engine
    out = tmp_path / "out"
    args = ab_args(out, f"a=env#cpus=0,c={url}#cpus=1")
    process = start_stwbench(args)
    deadline = time.monotonic() + 900
    killed_after = None
    while killed_after is None:
        assert process.poll() is None, process.stderr.read()[-3000:]
        assert time.monotonic() < deadline
        runs = [p for p in out.glob("2*") if (p / layout.MANIFEST).exists()]
        if runs:
            processes = manifest_of(runs[0]).get("processes", {})
            on_c = [slug for slug, p in processes.items() if p.get("engine") == "c"]
            if on_c:  # c is in the middle of a block (a block is 6 processes)
                kill()
                killed_after = set(on_c)
        time.sleep(0.1)
    stdout, stderr = process.communicate(timeout=900)
    assert process.returncode == 0, stderr[-3000:]
    assert "engine c lost" in stdout + stderr
    run_dir = Path(stdout.strip()).parent
    manifest = manifest_of(run_dir)
    by_rep = assert_whole_blocks(manifest)
    assert len(finished_dirs(run_dir)) == len(manifest["order"])
    lost = manifest["engines"]["c"]
    assert lost["state"] == "lost" and lost["lost_at"] and "engine c" in lost["lost_reason"]
    # What c finished of its unfinished block moved aside (kept on disk, with the
    # reason) and the block reran whole on a; c's finished blocks stayed c's.
    moved = [
        slug
        for slug, p in manifest["processes"].items()
        for attempt in p["attempts"]
        if "reran whole on a" in attempt["reason"]
    ]
    for slug in moved:
        assert manifest["processes"][slug]["engine"] == "a"
        (attempt,) = manifest["processes"][slug]["attempts"]
        assert (run_dir / attempt["dir"] / layout.MOVED_NOTE).exists()
    assert Counter(by_rep.values())["c"] == len(lost["blocks"])
    assert moved, "c was killed inside a block: something of it must have moved"
    items = {_slug(item): item for item in manifest["order"]}
    for slug in killed_after:  # what c had finished when it went: kept whole, or moved
        record = manifest["processes"][slug]
        if record["engine"] == "c":
            assert items[slug]["rep"] in lost["blocks"]
        else:
            assert slug in moved
    summary = json.loads((run_dir / "summary.json").read_text())
    rows = [
        r for r in summary["comparisons"] if (r["benchmark"], r["metric"]) == ("Scheduler", "ns/op")
    ]
    assert rows and rows[0]["verdict"] == "worse"
    assert 'class="bad">lost' in (run_dir / "report.html").read_text()


# --- a nightly history from two machines --------------------------------------------


def test_two_machines_record_the_same_night_into_one_postgresql(
    second_engine, postgres_server_url, tmp_path
):
    """Two nightly jobs at once, each on its own engine (its CPU: its machine), same
    series, same night, one PostgreSQL database: two nights keyed (series, machine,
    night), named after the engines, and a trend panel per machine."""
    from harness.history import History
    from tests.conftest import scratch_postgres_db

    config = tmp_path / "nightly.toml"
    config.write_text(
        "reps = 3\ngomaxprocs = 1\ntarget_seconds = 0.15\n[[series]]\n"
        f'name = "tip"\ngo = "{GO}"\nmode = "source"\nworkloads = "Scheduler"\n'
    )
    with scratch_postgres_db(postgres_server_url) as db:
        jobs = {}
        for name, engine in (("a", "a=env#cpus=0"), ("b", f"b={second_engine}#cpus=1")):
            args = ["nightly", "--config", config, "--db", db, "--night", "2026-12-01",
                    "--engines", engine, "--no-gate", "--out", tmp_path / name]  # fmt: skip
            jobs[name] = start_stwbench(args)
        for name, job in jobs.items():
            _, stderr = job.communicate(timeout=900)
            assert job.returncode == 0, stderr[-3000:]
            assert "night 2026-12-01 on machine " + name in " ".join(stderr.split())
            (run_dir,) = (tmp_path / name / "nightly" / "2026-12-01").glob("2*")
            manifest = manifest_of(run_dir)
            assert {p["engine"] for p in manifest["processes"].values()} == {name}
        history = History(db)
        nights = history.nights(["tip"])
        history.dispose()
        # Each job rendered the trend of what the database held when it finished; the
        # report from the database now has both machines.
        trend = stwbench("nightly", "--report-only", "--db", db, "--out", tmp_path / "trend")
        assert trend.returncode == 0, trend.stderr[-2000:]
    assert sorted(nights["machine"]) == ["a", "b"]
    assert set(nights["night"].astype(str)) == {"2026-12-01"}
    html = (tmp_path / "trend" / "nightly" / "index.html").read_text()
    assert 'data-machine="a"' in html and 'data-machine="b"' in html


# --- a remote engine over TLS ---------------------------------------------------------


def _certificates(directory: Path) -> dict[str, Path]:
    """A throw-away CA, a server certificate for 127.0.0.1 and a client certificate."""

    def openssl(*args: str) -> None:
        subprocess.run(["openssl", *args], cwd=directory, check=True, capture_output=True)

    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca-key.pem",
            "-out", "ca.pem", "-days", "1", "-subj", "/CN=stwbench-test-ca")  # fmt: skip
    for name, usage, alt in (("server", "serverAuth", "subjectAltName=IP:127.0.0.1\n"),
                             ("client", "clientAuth", "")):  # fmt: skip
        (directory / f"{name}.ext").write_text(f"{alt}extendedKeyUsage={usage}\n")
        openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}-key.pem",
                "-out", f"{name}.csr", "-subj", f"/CN={name}")  # fmt: skip
        openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca-key.pem",
                "-CAcreateserial", "-out", f"{name}-cert.pem", "-days", "1",
                "-extfile", f"{name}.ext")  # fmt: skip
    return {p.stem: p for p in directory.glob("*.pem")}


def test_an_engine_over_tcp_with_tls_is_fingerprinted_and_runs_a_process(
    docker_available, tmp_path
):
    """The remote path: tcp:// with the daemon's CA and a client certificate. Without the
    client certificate the daemon refuses the connection: exit 2 naming the engine."""
    from harness.errors import EnvironmentProblem
    from harness.rundir import EngineSpec
    from harness.runs.container import Uploads
    from harness.runs.container import run as run_in_container
    from harness.runs.engines import open_engine
    from harness.runs.execute import ProcessSpec

    if shutil.which("openssl") is None:
        pytest.fail("no openssl: apt-get install -y openssl")
    pems = _certificates(tmp_path)
    port = 23760 + os.getpid() % 200
    tls = ["--host", f"tcp://127.0.0.1:{port}", "--tlsverify", f"--tlscacert={pems['ca']}",
           f"--tlscert={pems['server-cert']}", f"--tlskey={pems['server-key']}"]  # fmt: skip
    with private_dockerd(*tls):
        spec = EngineSpec(
            name="remote",
            url=f"tcp://127.0.0.1:{port}",
            tls_ca=str(pems["ca"]),
            tls_cert=str(pems["client-cert"]),
            tls_key=str(pems["client-key"]),
            cpus="1",
        )
        engine = open_engine(spec)
        assert engine.machine.affinity == [1] and engine.machine.engine_url == spec.url
        item, cwd = tmp_path / "item", tmp_path / "cwd"
        cwd.mkdir()
        done = run_in_container(
            engine,
            ProcessSpec(
                command=["/usr/bin/dash", "-c", "printf 'ok\\0bytes' && echo err >&2"],
                cwd=cwd,
                env={},
                shown_env={"GOMAXPROCS": "1"},
                timeout_s=60,
                perf_events=[],
                keep_raw=False,
            ),
            item,
            Uploads(),
            run_id="tls-test",
        )
        assert done.status == "ok" and done.exit_code == 0
        assert (item / layout.STDOUT).read_bytes() == b"ok\0bytes"  # every byte
        assert (item / layout.STDERR).read_text() == "err\n"
        with pytest.raises(EnvironmentProblem, match=r"engine remote .* does not answer"):
            open_engine(spec.model_copy(update={"tls_cert": None, "tls_key": None}))
