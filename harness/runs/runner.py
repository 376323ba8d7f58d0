"""Drive a run: toolchains → binaries → calibration → processes, durable and resumable.

The run directory's layout and records are harness/rundir's (layout.py, models.py):
this module fills a Manifest and saves it after every process; raw/<slug>/ holds each
process's files, raw/_rejected/<slug>.attempt<a>/ the attempts the noise guard re-ran.

Noise guard: each process records how much CPU the rest of the machine used while it ran
(harness/runs/noise.py). A process whose interference exceeds --max-interference cores
(or whose steal exceeds --max-steal) is re-run up to --noise-retries times, decided on
those figures alone, never on its status or what it measured; the rejected attempt's
directory moves under raw/_rejected/ (tables read only the order's slugs) and the
manifest keeps its figures in the process's `attempts`. After the last retry the attempt
is kept and listed in `Manifest.noise.kept_noisy`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import os
import platform
import random
import shutil
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path

from harness.console import console, progress
from harness.errors import EnvironmentProblem
from harness.files import atomic_symlink
from harness.kinds import CommandContext, bench_args, kind_of
from harness.parse import parse_bench
from harness.rundir import (
    Attempt,
    BuildRecord,
    EngineRecord,
    GateRecord,
    GateRequest,
    Isolation,
    Machine,
    Manifest,
    NoiseRecord,
    PatchRecord,
    PerfRecord,
    ProcessRecord,
    RunDir,
    RunItem,
    RunOptions,
    Session,
    ToolchainRecord,
    Variant,
    Workload,
    layout,
)
from harness.runs import container, execute, isolation, machine, perf, shard, trace
from harness.runs.compile import Binary, compile_workloads
from harness.runs.engines import DEFAULT_ENGINE, Engine, open_engine
from harness.runs.plan import extend_order, run_order
from harness.runs.variants import toolchain_spec
from harness.toolchains import (
    Toolchain,
    build,
    cache,
    check_knobs,
    gate_is_current,
    go_env,
    recorded_gate,
    run_gate,
)

# Exit codes of `stwbench run` beyond the usual 0/2 (see README).
EXIT_PROCESS_FAILURES = 3
EXIT_FAILED_CHECK = 1  # the sanity gate or the starvation check failed


class Run(RunDir):
    """A run directory being run: the manifest plus the runner's shorthands."""

    @property
    def run_dir(self) -> Path:
        return self.root

    @property
    def raw(self) -> Path:
        return self.layout.raw

    @property
    def variants(self) -> list[Variant]:
        return self.manifest.variants

    @property
    def workloads(self) -> list[Workload]:
        return self.manifest.workloads

    @property
    def options(self) -> RunOptions:
        return self.manifest.options

    @property
    def order(self) -> list[RunItem]:
        return self.manifest.order


def new_run_id() -> str:
    return dt.datetime.now().strftime("%Y%m%d-%H%M%S")


def create_run(
    out: Path,
    variants: list[Variant],
    workloads: list[Workload],
    options: RunOptions,
    *,
    aa_arm: str | None = None,
) -> Run:
    """A new run directory under `out` with its plan; the first variant is the baseline."""
    seed = options.seed if options.seed is not None else random.SystemRandom().randrange(2**31)
    options = options.model_copy(update={"seed": seed})
    order = run_order(variants, workloads, options.reps, options.gomaxprocs, seed)
    out = out.resolve()  # processes run in other directories: every path must be absolute
    run_id = new_run_id()
    taken = 1
    while (out / run_id).exists():  # two runs started within one second
        taken += 1
        run_id = f"{new_run_id()}-{taken}"
    manifest = Manifest(
        run_id=run_id,
        created_at=execute.now_iso(),
        variants=variants,
        baseline=variants[0].name,
        aa_arm=aa_arm,
        workloads=workloads,
        options=options,
        order=order,
    )
    run = Run.create(out / run_id, manifest)
    atomic_symlink(out / "latest", run_id)
    return run


def load_run(run_dir: Path) -> Run:
    opened = RunDir.open(run_dir)  # a bad manifest is a UsageError naming file and key
    return Run(opened.root, opened.manifest)


def extend_run(run: Run, blocks: int) -> list[RunItem]:
    """Append `blocks` whole reps to the run order (plan.extend_order) and save the
    manifest: the next execute_run runs them, and a killed one resumes them."""
    if blocks < 1:
        return []
    order = extend_order(
        run.order, run.variants, run.workloads, run.options.gomaxprocs, run.options.seed, blocks
    )
    added = order[len(run.order) :]
    run.manifest.order = order
    run.manifest.options = run.options.model_copy(update={"reps": max(i.rep for i in order)})
    run.manifest.status = "extended"
    run.save()
    return added


def block_size(run: Run) -> int:
    """Processes per rep (every variant × workload × GOMAXPROCS once)."""
    return len(run.order) // max(run.options.reps, 1)


def execute_run(run: Run) -> int:
    """Run every unfinished process; return the exit code (0, or 3 if any process failed).

    Disk full and Ctrl-C stop the run with everything finished so far on disk and the
    manifest saying why; `--resume` continues it.
    """
    try:
        _execute(run)
    except OSError as exc:
        if exc.errno == errno.ENOSPC:
            run.manifest.status = "stopped: disk full"
            _try_save(run)
            raise EnvironmentProblem(
                f"disk full while writing {run.run_dir}; finished processes are kept, free "
                f"space and continue with --resume {run.run_dir}"
            ) from exc
        raise
    except KeyboardInterrupt:
        run.manifest.status = "interrupted"
        _try_save(run)
        console.print(f"interrupted: continue with [bold]stwbench run --resume {run.run_dir}[/]")
        raise
    failures = [slug for slug, p in run.manifest.processes.items() if p.status != "ok"]
    run.manifest.status = "finished" if not failures else f"finished with {len(failures)} failed"
    run.manifest.sessions[-1].ended_at = execute.now_iso()
    run.manifest.ended_at = execute.now_iso()
    run.save()
    return EXIT_PROCESS_FAILURES if failures else 0


def _execute(run: Run) -> None:
    options = run.options
    extended = run.manifest.status == "extended"  # adaptive reps added blocks
    run.manifest.status = "running"
    run.manifest.sessions.append(Session(started_at=execute.now_iso()))
    in_containers = options.run_executor == "docker"
    if in_containers:
        events, perf_failures = [], {"all": CONTAINER_PERF} if options.perf else {}
    else:
        events, perf_failures = perf.detect_events() if options.perf else ([], {})
    if options.perf and not events:
        console.print(f"[yellow]perf: no event records here ({perf_failures}); without perf")
    run.manifest.perf = PerfRecord(requested=options.perf, events=events, unavailable=perf_failures)
    run.manifest.machine = Machine(**machine.fingerprint(events))
    engines = _open_engines(run) if in_containers else []
    toolchains = _toolchains(run)
    binaries = _binaries(run, toolchains)
    if in_containers:
        isolated = _container_isolation(engines)
    else:
        isolated = Isolation(**isolation.detect(options.cpus, _max_gomaxprocs(run)))
    run.manifest.isolation = isolated
    console.print(f"[dim]isolation: {isolated.reason}")
    _adopt_finished(run)
    with isolation.harness_on(isolated.harness_cpus):
        _calibrate(run, toolchains, binaries, engines[0] if engines else None)
        _record_noise(run)
        run.save()
        if in_containers:
            _run_sharded(run, toolchains, binaries, engines, extended=extended)
        else:
            _run_processes(run, toolchains, binaries, events, extended=extended)


CONTAINER_PERF = "processes run in containers (--run-executor docker): perf is not in them"


def _open_engines(run: Run) -> list[Engine]:
    """Connect to every engine of the run, make sure it has the runner image and record
    its machine. At a run's start every engine must answer (exit 2 naming the one that
    does not: a typo must not silently shrink the run). A resumed run goes on without an
    engine that is down now, recorded as lost (its half-done block reruns elsewhere);
    none answering is exit 2."""
    specs = run.options.engines or [DEFAULT_ENGINE]
    resumed = len(run.manifest.sessions) > 1
    engines, problems = [], []
    for spec in specs:
        with console.status(f"engine {spec.name}: connecting, runner image, fingerprint"):
            try:
                engine = open_engine(spec)
            except EnvironmentProblem as exc:
                if not resumed:
                    raise
                problems.append(str(exc))
                previous = run.manifest.engines.get(spec.name)
                if previous is not None:
                    previous.state, previous.lost_reason = "lost", str(exc)
                    previous.lost_at = previous.lost_at or execute.now_iso()
                continue
        host_arch = platform.machine()
        if engine.machine.machine and engine.machine.machine != host_arch:
            # The test binaries are built here, for this machine's GOARCH.
            raise EnvironmentProblem(
                f"engine {spec.name} is {engine.machine.machine}, this machine "
                f"{host_arch}: the binaries built here cannot run there"
            )
        engines.append(engine)
        if container.remove_leftovers(engine, run.manifest.run_id):
            console.print(f"[dim]engine {spec.name}: removed containers a killed session left")
        previous = run.manifest.engines.get(spec.name)
        run.manifest.engines[spec.name] = EngineRecord(
            url=spec.url,
            cpus=spec.cpus,
            machine=engine.machine,
            image=engine.image,
            blocks=previous.blocks if previous else [],
        )
        where = f"CPUs {spec.cpus}" if spec.cpus else "all its CPUs"
        console.print(
            f"engine [bold]{spec.name}[/] {spec.url}: {engine.machine.hostname}, "
            f"{engine.machine.cores} cores, {engine.machine.cpu_model}, {where}"
        )
    if not engines:
        raise EnvironmentProblem("no engine answers: " + "; ".join(problems))
    for problem in problems:
        console.print(f"[yellow]{problem}: its blocks go to the other engines")
    run.save()
    return engines


def _container_isolation(engines: list[Engine]) -> Isolation:
    pinned = [f"{e.name} on CPUs {e.spec.cpus}" for e in engines if e.spec.cpus]
    unpinned = [e.name for e in engines if not e.spec.cpus]
    reason = "containers: " + "; ".join(
        [*pinned, *([f"{', '.join(unpinned)} on all their CPUs"] if unpinned else [])]
    )
    return Isolation(applied=bool(pinned), reason=reason, cpus=isolation.affinity())


def _max_gomaxprocs(run: Run) -> int:
    return max((item.gomaxprocs for item in run.order), default=1)


def _run_processes(
    run: Run, toolchains: dict, binaries: dict, events: list[str], *, extended: bool
) -> None:
    todo = [item for item in run.order if not layout.finished(run.item_dir(item))]
    _say_resuming(run, len(todo), extended)
    runner = _ItemRunner(run, toolchains, binaries, events)
    with progress() as bar:
        task = bar.add_task("processes", total=len(run.order), completed=len(run.order) - len(todo))
        for item in todo:
            bar.update(task, description=_describe(item))
            runner.run(item, bar.console)
            bar.advance(task)


def _adopt_finished(run: Run) -> None:
    """Record the processes that are finished on disk but not in the manifest: a session
    killed between a process's rename into place and the manifest's save. Its status.json
    is complete (execute.record writes it last), so it is the process's record."""
    for item in run.order:
        item_dir = run.item_dir(item)
        if item.slug in run.manifest.processes or not layout.finished(item_dir):
            continue
        result = execute.read_status(item_dir)
        attempts = [
            _attempt_entry(run, number, path)
            for number, path in run.layout.rejected_attempts(item.slug)
        ]
        run.manifest.processes[item.slug] = _process_record(
            result, attempts, noise_reason(result, run.options) is not None, result.engine
        )
    run.save()


def _process_record(
    result: execute.ProcessResult, attempts: list[Attempt], noisy: bool, engine: str | None
) -> ProcessRecord:
    return ProcessRecord(
        status=result.status,
        duration_s=result.duration_s,
        exit_code=result.exit_code,
        reason=result.reason,
        **_noise_figures(result),
        attempts=attempts,
        noisy=noisy,
        engine=engine,
    )


def _say_resuming(run: Run, todo: int, extended: bool) -> None:
    done = len(run.order) - todo
    if done:
        why = f"extended by {todo} processes" if extended else "resuming"
        console.print(f"{why}: {done} of {len(run.order)} processes already on disk")


def _describe(item: RunItem) -> str:
    return f"{item.variant} {item.workload} P={item.gomaxprocs} rep {item.rep}"


class _ItemRunner:
    """Runs one item (guarded against noise) and records it in the manifest; the lock
    makes it safe to call from one thread per engine."""

    def __init__(
        self,
        run: Run,
        toolchains: dict,
        binaries: dict,
        events: list[str],
        uploads: container.Uploads | None = None,
    ) -> None:
        self.run_ = run
        self.toolchains, self.binaries, self.events = toolchains, binaries, events
        self.uploads = uploads
        self.workloads = {w.name: w for w in run.workloads}
        self.variants = {v.name: v for v in run.variants}
        self.lock = threading.Lock()

    def run(self, item: RunItem, out, engine: Engine | None = None) -> None:
        run = self.run_
        started = time.monotonic()
        workload = self.workloads[item.workload]

        def once() -> execute.ProcessResult:
            return _run_item(
                run,
                item,
                self.variants[item.variant],
                workload,
                self.toolchains[item.variant],
                self.binaries[item.variant][workload.name],
                self.events,
                engine=engine,
                uploads=self.uploads,
            )

        result, attempts, noisy = _run_guarded(run, item, once, out)
        with self.lock:
            run.manifest.processes[item.slug] = _process_record(
                result, attempts, noisy, engine.name if engine else None
            )
            if result.status != "ok":
                out.print(f"[red]{result.status}[/] {item.slug}: {result.reason}")
            _record_noise(run)
            session = run.manifest.sessions[-1]
            session.processes_run += 1
            session.processes_s = round(session.processes_s + time.monotonic() - started, 3)
            run.save()


def _run_sharded(
    run: Run, toolchains: dict, binaries: dict, engines: list[Engine], *, extended: bool
) -> None:
    """The docker run executor: whole blocks to engines (harness/runs/shard.py)."""
    todo = [item for item in run.order if not layout.finished(run.item_dir(item))]
    _say_resuming(run, len(todo), extended)
    runner = _ItemRunner(run, toolchains, binaries, [], uploads=container.Uploads())
    by_name = {e.name: e for e in engines}
    reps = sorted({item.rep for item in todo})
    finished_on = run.manifest.rep_machines()

    with progress() as bar:
        task = bar.add_task("processes", total=len(run.order), completed=len(run.order) - len(todo))

        def run_block(name: str, rep: int) -> None:
            engine = by_name[name]
            items = [item for item in run.order if item.rep == rep]
            with runner.lock:
                moved = _move_foreign(run, items, name)
            bar.advance(task, -moved)
            for item in items:
                if layout.finished(run.item_dir(item)):
                    continue
                bar.update(task, description=f"{name}: {_describe(item)}")
                runner.run(item, bar.console, engine)
                bar.advance(task)
            with runner.lock:
                run.manifest.engines[name].blocks.append(rep)
                run.save()

        def on_lost(name: str, rep: int, reason: str) -> None:
            with runner.lock:
                record = run.manifest.engines[name]
                record.state, record.lost_reason, record.lost_at = "lost", reason, execute.now_iso()
                run.save()
            bar.console.print(f"[red]engine {name} lost[/] ({reason}); block {rep} re-queued")

        outcome = shard.run_sharded(
            reps,
            [e.name for e in engines],
            run_block,
            owner=lambda rep: finished_on.get(rep),
            on_lost=on_lost,
        )
    if outcome.unfinished:
        raise EnvironmentProblem(
            f"every engine was lost ({'; '.join(outcome.lost.values())}); "
            f"{len(outcome.unfinished)} blocks unfinished, every finished one kept: "
            f"continue with --resume {run.run_dir}"
        )


def _move_foreign(run: Run, items: list[RunItem], engine: str) -> int:
    """Set aside the processes of this block that ran on another engine (lost, or gone
    from this session): a block runs whole on one machine, so it reruns here. They stay
    on disk as rejected attempts with a note saying why; returns how many moved."""
    moved = 0
    for item in items:
        record = run.manifest.processes.get(item.slug)
        item_dir = run.item_dir(item)
        if record is None or not layout.finished(item_dir) or record.engine in (None, engine):
            continue
        number = max((n for n, _ in run.layout.rejected_attempts(item.slug)), default=0) + 1
        dest = run.layout.rejected(item.slug, number)
        dest.parent.mkdir(parents=True, exist_ok=True)
        os.rename(item_dir, dest)
        (dest / layout.MOVED_NOTE).write_text(
            f"engine {record.engine} left block {item.rep} unfinished; it reran whole on {engine}\n"
        )
        del run.manifest.processes[item.slug]
        moved += 1
    if moved:
        run.save()
    return moved


NOISE_FIELDS = ("cpu_user_s", "cpu_sys_s", "interference_cores", "steal_cores", "load1")


def _noise_figures(result: execute.ProcessResult) -> dict:
    return {name: getattr(result, name) for name in NOISE_FIELDS}


def noise_reason(result: execute.ProcessResult, options: RunOptions) -> str | None:
    """Why this attempt is too noisy to keep, from its interference figures only (never
    from its status or what it measured); None when it may stay."""
    reasons = []
    interference, steal = result.interference_cores, result.steal_cores
    if interference is not None and interference > options.max_interference_cores:
        reasons.append(
            f"interference {interference:.2f} cores > {options.max_interference_cores:g}"
        )
    if steal is not None and steal > options.max_steal_cores:
        reasons.append(f"steal {steal:.2f} cores > {options.max_steal_cores:g}")
    return "; ".join(reasons) or None


def _attempt_entry(run: Run, number: int, path: Path) -> Attempt:
    result = execute.read_status(path)
    moved = _moved_note(path)
    return Attempt(
        attempt=number,
        dir=str(path.relative_to(run.run_dir)),
        status=result.status,
        duration_s=result.duration_s,
        **_noise_figures(result),
        reason=moved or noise_reason(result, run.options) or "re-run",
    )


def _moved_note(path: Path) -> str | None:
    try:
        return (path / layout.MOVED_NOTE).read_text().strip()
    except OSError:
        return None


def _run_guarded(
    run: Run, item: RunItem, once, out
) -> tuple[execute.ProcessResult, list[Attempt], bool]:
    """Run the item; re-run it (at most noise_retries times) while the machine was too busy.

    Returns the kept result, the rejected attempts' entries and whether the kept one is
    itself noisy (the retries ran out)."""
    rejected = run.layout.rejected_attempts(item.slug)  # a resumed run counts them too
    while True:
        result = once()
        reason = noise_reason(result, run.options)
        retried = sum(1 for _, path in rejected if _moved_note(path) is None)
        if reason is None or retried >= run.options.noise_retries:
            break
        number = (rejected[-1][0] if rejected else 0) + 1
        dest = run.layout.rejected(item.slug, number)
        dest.parent.mkdir(parents=True, exist_ok=True)
        if dest.exists():  # an unfinished leftover of a killed session
            shutil.rmtree(dest)
        os.rename(run.item_dir(item), dest)
        rejected.append((number, dest))
        out.print(
            f"[yellow]re-run[/] {item.slug}: {reason} "
            f"(attempt {len(rejected) + 1} of at most {run.options.noise_retries + 1})"
        )
    attempts = [_attempt_entry(run, number, path) for number, path in rejected]
    return result, attempts, reason is not None


def _record_noise(run: Run) -> None:
    """Manifest.noise: the thresholds and what the guard did, derived from processes."""
    processes = run.manifest.processes
    rerun = sorted(slug for slug, p in processes.items() if p.attempts)
    run.manifest.noise = NoiseRecord(
        threshold_cores=run.options.max_interference_cores,
        steal_threshold_cores=run.options.max_steal_cores,
        retries_max=run.options.noise_retries,
        rerun=len(rerun),
        rerun_slugs=rerun,
        rejected_attempts=sum(len(processes[slug].attempts) for slug in rerun),
        kept_noisy=sorted(slug for slug, p in processes.items() if p.noisy),
    )


def _try_save(run: Run) -> None:
    with contextlib.suppress(OSError):
        run.save()


def _toolchains(run: Run) -> dict[str, Toolchain]:
    toolchains = {}
    for variant in run.variants:
        console.print(f"toolchain for [bold]{variant.name}[/]")
        built = build(toolchain_spec(variant, run.options.executor, run.options.build_cpuset))
        # One object per cache entry: the gate records its results in it, and every
        # variant of that toolchain (knob variants) must see them.
        toolchains[variant.name] = next(
            (t for t in toolchains.values() if t.key == built.key), built
        )
        check_knobs(f"variant {variant.name}", variant.godebug, toolchains[variant.name].goroot)
    _gate(run, toolchains)
    knobs = {v.name: v.godebug_text for v in run.variants}
    run.manifest.toolchains = {
        name: ToolchainRecord(
            key=t.key,
            goroot=str(t.goroot),
            go_version=t.provenance["go_version"],
            mode=t.provenance["mode"],
            executor=t.provenance["executor"],
            patches=[PatchRecord(**p) for p in t.provenance["patches"]],
            git=t.provenance["source"].get("git"),
            bootstrap=(t.provenance["source"].get("bootstrap") or {}).get("version"),
            # --no-gate: neither run nor judged, even when the toolchain has a record.
            # A knob variant's gate is the one run with its knobs.
            gate=GateRecord(**gate)
            if run.options.gate and (gate := recorded_gate(t.provenance, knobs[name]))
            else None,
        )
        for name, t in toolchains.items()
    }
    return toolchains


def _gate(run: Run, toolchains: dict[str, Toolchain]) -> None:
    """The sanity gate on every patched toolchain, unless --no-gate: once per toolchain
    and gate test list (the result lives in the toolchain's provenance). A failed gate
    does not stop the run (its numbers still say what the patch did); analysis marks that
    variant's rows `unreliable` and the commands exit 1 (`gate_failures`)."""
    run.manifest.gate = GateRequest(requested=run.options.gate)
    if not run.options.gate:
        console.print("[yellow]gate: skipped (--no-gate); the report says so")
        return
    # Once per (toolchain, knobs): a knob-gated patch is gated with each setting in use.
    wanted = {(toolchains[v.name].key, v.godebug_text): toolchains[v.name] for v in run.variants}
    for (_, godebug), toolchain in wanted.items():
        if not toolchain.provenance["patches"]:
            continue  # an unpatched release: its own tests are the Go team's business
        cached = gate_is_current(toolchain, godebug)
        if not cached:
            run_gate(toolchain, godebug=godebug)  # recorded in toolchain.provenance too
        gate = recorded_gate(toolchain.provenance, godebug)
        assert gate is not None
        when = f" (recorded {gate['ran_at']})" if cached else ""
        what = f"toolchain {toolchain.key[:12]}" + (f" GODEBUG={godebug}" if godebug else "")
        if gate["passed"]:
            console.print(f"gate: pass, {what}{when}")
        else:
            bad = ", ".join(gate["tests_failed"] + gate["tests_missing"]) or "exit code"
            console.print(f"[red]gate FAILED[/] for {what}{when}: {bad}")


def _binaries(run: Run, toolchains: dict[str, Toolchain]) -> dict[str, dict[str, Binary]]:
    binaries = {}
    with console.status("compiling workloads (once per toolchain)"):
        for variant in run.variants:
            binaries[variant.name] = compile_workloads(toolchains[variant.name], run.workloads)
    run.manifest.builds = {
        variant: {name: BuildRecord(**binary.to_json()) for name, binary in built.items()}
        for variant, built in binaries.items()
    }
    for variant, built in binaries.items():
        for name, binary in built.items():
            if binary.error:
                console.print(
                    f"[red]build failed[/] {name} with {variant}: "
                    f"{binary.error.splitlines()[-1] if binary.error else ''}"
                )
    return binaries


def _calibrate(
    run: Run, toolchains: dict[str, Toolchain], binaries: dict, engine: Engine | None
) -> None:
    """Find N once per benchmark (first variant that built it); every variant runs N."""
    benchtime = run.manifest.benchtime
    for workload in run.workloads:
        if not kind_of(workload).calibrated or workload.name in benchtime:
            continue
        for variant in run.variants:
            binary: Binary = binaries[variant.name][workload.name]
            if binary.path is None:
                continue
            benchtime[workload.name] = _calibrate_one(
                run, workload, binary, toolchains[variant.name], variant, engine
            )
            break
        run.save()


def _calibrate_one(
    run: Run,
    workload: Workload,
    binary: Binary,
    toolchain: Toolchain,
    variant: Variant,
    engine: Engine | None,
) -> int:
    procs = workload.gomaxprocs or max(run.options.gomaxprocs)
    n = 1
    env = {**go_env(toolchain.goroot), **variant.env, "GOMAXPROCS": str(procs)}
    # Calibrate where the processes will run: pinned like them, or in a container on
    # the first engine.
    trial = _calibration_trial(run, engine, env, binary)
    with console.status(f"calibrating {workload.name}") as status:
        for _ in range(12):
            code, stdout = trial(bench_args(workload, n, procs))
            parsed = parse_bench(stdout)
            # A pattern may select several benchmarks, all run N times: calibrate the
            # process's total, the sum of their ns/op.
            ns_per_op = sum(r.metrics.get("ns/op", 0.0) for r in parsed.results)
            if code != 0 or not ns_per_op:
                console.print(
                    f"[yellow]calibration of {workload.name} failed (exit {code}); using N=1"
                )
                return 1
            total_s = ns_per_op * n / 1e9
            status.update(f"calibrating {workload.name}: N={n} took {total_s:.3f} s")
            if total_s >= 0.1:
                return max(1, round(n * run.options.target_s / total_s))
            n *= 10 if total_s < 0.01 else 3
    return n


def _calibration_trial(
    run: Run, engine: Engine | None, env: dict[str, str], binary: Binary
) -> Callable[[list[str]], tuple[int | None, str]]:
    """args → (exit code, stdout) of one calibration process of `binary`."""
    assert binary.path is not None
    path = binary.path
    if engine is None:
        cpus = run.manifest.bench_cpus()
        pin = ["taskset", "--cpu-list", cpus] if cpus else []

        def local(args: list[str]) -> tuple[int | None, str]:
            done = subprocess.run(
                [*pin, path, *args],
                cwd=binary.cwd,
                env=env,
                capture_output=True,
                text=True,
                timeout=run.options.timeout_s,
                check=False,
            )
            return done.returncode, done.stdout

        return local
    uploads = container.Uploads()

    def in_container(args: list[str]) -> tuple[int | None, str]:
        spec = execute.ProcessSpec(
            command=[path, *args],
            cwd=Path(binary.cwd),
            env=env,
            shown_env={k: env[k] for k in ("GOMAXPROCS",)},
            timeout_s=run.options.timeout_s,
            perf_events=[],
            keep_raw=False,
        )
        scratch = run.raw / "_calibration" / Path(path).name
        shutil.rmtree(scratch, ignore_errors=True)
        result = container.run(
            engine, spec, scratch, uploads, run_id=run.manifest.run_id, label="calibration"
        )
        stdout = (scratch / layout.STDOUT).read_text(errors="replace")
        return result.exit_code, stdout

    return in_container


def _godebug(variant: Variant, schedtrace: str) -> str:
    parts = [p for p in variant.env.get("GODEBUG", "").split(",") if p]
    if variant.godebug:
        parts.append(variant.godebug_text)
    parts.append("gctrace=1")
    if schedtrace in ("on", "detail"):
        parts.append("schedtrace=100")
    if schedtrace == "detail":
        parts.append("scheddetail=1")
    return ",".join(parts)


def _run_item(
    run: Run,
    item: RunItem,
    variant: Variant,
    workload: Workload,
    toolchain: Toolchain,
    binary: Binary,
    perf_events: list[str],
    *,
    engine: Engine | None = None,
    uploads: container.Uploads | None = None,
) -> execute.ProcessResult:
    item_dir = run.item_dir(item)
    if binary.path is None:
        result = execute.ProcessResult(
            status="build-failed",
            exit_code=None,
            duration_s=0.0,
            reason=(binary.error or "build failed").splitlines()[-1][:500],
            started_at=execute.now_iso(),
        )
        execute.record(item_dir, result)
        return result
    shown = {
        **variant.env,
        **dict(workload.env),
        "GOMAXPROCS": str(item.gomaxprocs),
        "GODEBUG": _godebug(variant, run.options.schedtrace),
    }
    env = {**go_env(toolchain.goroot), **shown}
    kind = kind_of(workload)
    traced = kind.traceable and is_traced(run.options, item.rep)
    command = kind.command(
        workload,
        binary.path,
        CommandContext(
            item=item,
            options=run.options,
            output_dir=layout.partial(item_dir),
            benchtime=run.manifest.benchtime.get(workload.name, 1),
            traced=traced,
        ),
    )
    cpus = run.manifest.bench_cpus()
    if cpus and engine is None:  # in a container the engine's cpuset pins it
        command = ["taskset", "--cpu-list", cpus, *command]
    spec = execute.ProcessSpec(
        command=command,
        cwd=Path(binary.cwd),
        env=env,
        shown_env=shown,
        timeout_s=run.options.timeout_s,
        perf_events=perf_events,
        keep_raw=run.options.keep_raw,
        trace=(_trace_spec(run, toolchain) if traced else None),
    )
    if engine is not None:
        assert uploads is not None
        return container.run(
            engine, spec, item_dir, uploads, run_id=run.manifest.run_id, label=item.slug
        )
    return execute.run(spec, item_dir)


def is_traced(options: RunOptions, rep: int) -> bool:
    """Whether a probe process of this block runs under the execution tracer."""
    return options.trace and (options.trace_reps is None or rep <= options.trace_reps)


def _trace_spec(run: Run, toolchain: Toolchain) -> trace.TraceSpec:
    return trace.TraceSpec(
        go=str(toolchain.goroot / "bin" / "go"),
        go_version=str(toolchain.provenance.get("go_version", "")),
        env=go_env(toolchain.goroot, GOCACHE=str(cache.subdir("gocache"))),
        timeout_s=run.options.timeout_s,
    )
