"""Docker engines, fast parts: naming engines, the block queue, the container wrapper's
readings, and verdicts across machines (seeded simulations). The runs on two real
engines are in tests/test_engines_run.py."""

from __future__ import annotations

import math
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from harness.commands.options import build_options
from harness.errors import UsageError
from harness.rundir import EngineSpec
from harness.runs import engines_from_toml, parse_engines
from harness.runs.container import _children_times, _parse_time
from harness.runs.engines import EngineLost, cpu_ids
from harness.runs.noise import interval, parse_proc_stat
from harness.runs.shard import run_sharded
from harness.stats import by_machine, heterogeneity
from tests.conftest import REPO, stwbench

FIXTURES = Path(__file__).parent / "fixtures" / "engines"
PATCH = REPO / "tests" / "patches" / "test-only-slow-newproc.patch"


# --- naming engines ---------------------------------------------------------------------


def test_engine_urls_names_and_cpu_sets():
    specs = parse_engines(
        "unix:///var/run/docker.sock#cpus=0, far=tcp://box.lan:2376, ssh://me@arm64#cpus=0-3"
    )
    assert [(s.name, s.url, s.cpus) for s in specs] == [
        ("docker", "unix:///var/run/docker.sock", "0"),
        ("far", "tcp://box.lan:2376", None),
        ("arm64", "ssh://me@arm64", "0-3"),
    ]
    assert cpu_ids("0-2,5") == [0, 1, 2, 5] and cpu_ids("") == []


@pytest.mark.parametrize(
    ("text", "wanted"),
    [
        ("unix:///a.sock#cpu=0", "after # only cpus=LIST"),
        ("a=unix:///x.sock,a=unix:///y.sock", r"engine names repeat \(a\)"),
        ("bad name!=unix:///x.sock", "name"),
        (",", "no engine given"),
    ],
)
def test_bad_engine_lists_are_usage_errors_naming_the_item(text, wanted):
    with pytest.raises(UsageError, match=wanted):
        parse_engines(text)


def test_the_run_options_refuse_repeated_engines_and_engines_without_docker():
    spec = EngineSpec(name="a", url="unix:///a.sock")
    with pytest.raises(UsageError, match="engine names repeat"):
        build_options({"run_executor": "docker", "engines": [spec, spec]})
    with pytest.raises(UsageError, match="engines are for run executor docker"):
        build_options({"engines": [spec]})


def test_engines_from_toml_and_its_errors(tmp_path):
    good = tmp_path / "engines.toml"
    good.write_text(
        '[[engine]]\nname = "small"\nurl = "unix:///run/a.sock"\ncpus = "0"\n\n'
        '[[engine]]\nurl = "tcp://box:2376"\ntls_ca = "/c/ca.pem"\n'
        'tls_cert = "/c/cert.pem"\ntls_key = "/c/key.pem"\n'
    )
    small, box = engines_from_toml(good)
    assert small == EngineSpec(name="small", url="unix:///run/a.sock", cpus="0")
    assert box.name == "box-2376" and box.tls_cert == "/c/cert.pem"
    bad = tmp_path / "bad.toml"
    bad.write_text('[[engine]]\nname = "x"\n')
    with pytest.raises(UsageError, match=r"bad.toml: engine\[0\]: no `url`"):
        engines_from_toml(bad)
    bad.write_text('[[engine]]\nurl = "unix:///a"\ncolour = "red"\n')
    with pytest.raises(UsageError, match="colour"):
        engines_from_toml(bad)


def test_the_cli_refuses_a_bad_engine_list_with_exit_2(tmp_path):
    result = stwbench("ab", "--go", "1.27.3", "--patch", PATCH, "--engines", "unix:///x.sock#cpu=1")
    assert result.returncode == 2, result.stderr[-2000:]
    assert "--engines: 'unix:///x.sock#cpu=1': after # only cpus=LIST" in result.stderr
    result = stwbench(
        "ab",
        "--go",
        "1.27.3",
        "--patch",
        PATCH,
        "--engines",
        "unix:///x.sock",
        "--run-executor",
        "local",
    )
    assert result.returncode == 2 and "--engines runs processes in containers" in result.stderr


def test_an_engine_that_does_not_answer_is_exit_2_naming_it(tmp_path):
    result = stwbench(
        "run",
        "--go",
        "1.27.3",
        "--patch",
        PATCH,
        "--mode",
        "source",
        "--engines",
        f"gone=unix://{tmp_path}/nothing.sock",
        "--out",
        tmp_path,
    )
    assert result.returncode == 2, result.stderr[-2000:]
    assert "engine gone" in result.stderr and "does not answer" in result.stderr


# --- the block queue ----------------------------------------------------------------------


def test_a_lost_engines_block_is_rerun_elsewhere_and_no_block_runs_twice():
    ran: list[tuple[str, int]] = []
    lock = threading.Lock()
    lost_at = {"b": 2}  # b's second block: the engine goes away mid-block

    def run_block(worker: str, rep: int) -> None:
        with lock:
            started = sum(1 for w, _ in ran if w == worker)
        if lost_at.get(worker) == started + 1:
            raise EngineLost(f"engine {worker}: connection refused")
        time.sleep(0.02)  # a block takes time: both workers get some
        with lock:
            ran.append((worker, rep))

    told = []
    outcome = run_sharded(
        list(range(1, 11)),
        ["a", "b"],
        run_block,
        on_lost=lambda w, rep, why: told.append((w, rep)),
    )
    assert sorted(rep for _, rep in ran) == list(range(1, 11))  # each once
    assert outcome.lost == {"b": "engine b: connection refused"}
    assert outcome.unfinished == []
    ((lost_worker, lost_rep),) = told
    assert lost_worker == "b" and ("a", lost_rep) in ran
    assert sum(1 for w, _ in ran if w == "b") == 1
    assert sorted(outcome.finished["a"] + outcome.finished["b"]) == list(range(1, 11))


def test_a_half_done_block_waits_for_its_engine_and_all_lost_leaves_blocks_unfinished():
    order: list[tuple[str, int]] = []
    lock = threading.Lock()

    def run_block(worker: str, rep: int) -> None:
        with lock:
            order.append((worker, rep))

    # rep 3 was half done on b in an earlier session: only b may take it while b lives.
    run_sharded([1, 2, 3, 4], ["a", "b"], run_block, owner=lambda rep: "b" if rep == 3 else None)
    assert ("b", 3) in order

    def always_lost(worker: str, rep: int) -> None:
        raise EngineLost(worker)

    outcome = run_sharded([1, 2, 3], ["a", "b"], always_lost)
    assert outcome.unfinished == [1, 2, 3] and set(outcome.lost) == {"a", "b"}


def test_a_bug_in_one_worker_stops_the_others_and_is_raised():
    def run_block(worker: str, rep: int) -> None:
        if worker == "a":
            raise RuntimeError("bug")

    with pytest.raises(RuntimeError, match="bug"):
        run_sharded(list(range(50)), ["a", "b"], run_block)


# --- what the container wrapper reads -------------------------------------------------------


def test_noise_figures_from_a_containers_readings_count_only_its_cpus():
    before = (FIXTURES / "proc-stat-before.txt").read_text()
    after = (FIXTURES / "proc-stat-after.txt").read_text()
    whole, cpu1 = parse_proc_stat(before), parse_proc_stat(before, [1])
    assert whole is not None and cpu1 is not None
    assert whole["user"] == 66449 and cpu1["user"] == 37846
    assert parse_proc_stat(before, [0, 1])["user"] == 28602 + 37846
    user, sys = _children_times((FIXTURES / "sh-times.txt").read_text())
    assert (user, sys) == (0.57, 0.0)
    # The loop ran in the shell on CPU 1: 48 user jiffies there, ~0.48 s of CPU that the
    # wrapper would count as the process's own (here: pretend the child used 0.40 s).
    later = parse_proc_stat(after, [1])
    noise = interval(cpu1, later, wall_s=0.5, user_s=0.40, sys_s=0.0, clk_tck=100)
    assert noise.interference_cores == pytest.approx((0.48 - 0.40) / 0.5, abs=1e-6)
    machine_wide = interval(
        whole, parse_proc_stat(after), wall_s=0.5, user_s=0.40, sys_s=0.0, clk_tck=100
    )
    assert machine_wide.interference_cores > noise.interference_cores  # CPU 0 counted too


def test_docker_timestamps_parse_to_the_microsecond():
    started = _parse_time("2026-12-01T21:05:07.576571226Z")
    finished = _parse_time("2026-12-01T21:05:08.1Z")
    assert (finished - started).total_seconds() == pytest.approx(0.523429, abs=1e-6)
    assert _parse_time("0001-01-01T00:00:00Z") is None


# --- verdicts across machines (seeded simulations) --------------------------------------------


def _two_machine_samples(rng, effects: dict[str, float], blocks: int = 12) -> tuple:
    """Bursty lognormal ns/op: a shared block effect on both arms, the candidate's
    effect by machine; machine b is 30 % slower overall (a main effect pairing removes)."""
    rows, rep_machines = [], {}
    rep = 0
    for machine, effect in effects.items():
        for _ in range(blocks):
            rep += 1
            rep_machines[rep] = machine
            block = rng.normal(0, 0.08) + (math.log(1.3) if machine == "b" else 0.0)
            for variant, shift in (("base", 0.0), ("cand", math.log(effect))):
                value = 1000 * math.exp(block + shift + rng.normal(0, 0.01))
                rows.append(
                    {
                        "variant": variant,
                        "workload": "W",
                        "benchmark": "W-1",
                        "rep": rep,
                        "metric": "ns/op",
                        "unit": "ns/op",
                        "value": value,
                        "better": "lower",
                    }
                )
    return pd.DataFrame(rows), rep_machines


def test_per_machine_rows_estimate_each_machines_effect_and_a_difference_is_flagged():
    rng = np.random.default_rng(7)
    samples, rep_machines = _two_machine_samples(rng, {"a": 1.10, "b": 1.00})
    rows = by_machine(samples, rep_machines, baseline="base", candidates=["cand"])
    ratio = dict(zip(rows["machine"], rows["ratio"], strict=True))
    assert ratio["a"] == pytest.approx(1.10, abs=0.02)
    assert ratio["b"] == pytest.approx(1.00, abs=0.02)
    assert dict(zip(rows["machine"], rows["verdict"], strict=True)) == {
        "a": "worse",
        "b": "same",
    }
    (row,) = heterogeneity(samples, rep_machines, "base", ["cand"]).to_dict("records")
    assert row["machines"] == 2 and row["differs"] and row["q_value"] < 0.01
    shown = dict(part.split() for part in row["ratios"].split("; "))
    assert float(shown["a"]) == pytest.approx(1.10, abs=0.02)
    assert float(shown["b"]) == pytest.approx(1.00, abs=0.02)


def test_the_machine_difference_test_keeps_its_false_positive_rate():
    """Same effect (+5 %) on both machines, machine b 30 % slower: over 300 seeded runs
    the flag rate stays near the nominal 5 % (binomial 99 % band for p = 0.05: ≤ 0.085)."""
    rng = np.random.default_rng(11)
    flagged = 0
    for _ in range(300):
        samples, rep_machines = _two_machine_samples(rng, {"a": 1.05, "b": 1.05}, blocks=8)
        frame = heterogeneity(samples, rep_machines, "base", ["cand"])
        flagged += int(frame["differs"].iloc[0])
    assert flagged / 300 <= 0.085, flagged
    assert flagged > 0  # the test can fire at all (it is not a constant "same")


def test_blocks_seen_on_one_machine_only_are_not_tested_for_differences():
    rng = np.random.default_rng(3)
    samples, rep_machines = _two_machine_samples(rng, {"a": 1.1, "b": 1.0})
    only_a = {rep: m for rep, m in rep_machines.items() if m == "a"}
    assert heterogeneity(samples, only_a, "base", ["cand"]).empty
    few = {**only_a, **{rep: "b" for rep in list(rep_machines)[-2:]}}  # b: 2 blocks < 3
    assert heterogeneity(samples, few, "base", ["cand"]).empty
