"""What a sweep runs: the baseline toolchain, the knob-gated toolchain with its knobs off
(the control), and one variant per point (the same toolchain plus GODEBUG knobs, and
optionally GOGC/GOMEMLIMIT), all in one interleaved run.

From flags (`--knob gcrunnextfirst=0,1 --knob gcdrainstart=0,2`: the grid, every
combination but all-off, which is the control; or `--point NAME:K=V[,K=V]`: a list) or a
TOML file (`[[point]] name = …, godebug = {…}, env = {…}`; or a `[grid]` table), validated
by pydantic like every other input: a bad key is exit 2 naming the file and key.

The plan is saved in the run directory (`sweep-plan.json`, versioned), so `--resume` and a
re-analysis know which variant is the control and which the reference design.
"""

from __future__ import annotations

import itertools
import re
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from harness.config_files import load_toml
from harness.errors import UsageError
from harness.rundir import Variant

PLAN_SCHEMA = 1
BASELINE, CONTROL = "baseline", "knobs-off"
_KNOB = r"[a-z][a-z0-9]*"
Knob = Annotated[str, StringConstraints(pattern=rf"^{_KNOB}$")]
Setting = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._-]+$")]
PointName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._+-]{0,99}$")]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Point(_Strict):
    """One design: knobs (and environment) on the knob-gated toolchain."""

    name: PointName
    godebug: dict[Knob, Setting] = Field(min_length=1)
    env: dict[str, str] = Field(default_factory=dict)


class SweepPlan(_Strict):
    schema_: int = Field(default=PLAN_SCHEMA, alias="schema")
    go: str
    mode: str = "make"
    patches: tuple[str, ...] = Field(min_length=1)
    points: list[Point] = Field(min_length=1)
    # The design the "keeps ≥ 80 % of the gain" question is asked against (the plain
    # patch: runnext first); default the first point.
    reference: str = ""
    keep_fraction: float = Field(default=0.8, gt=0, le=1)

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @model_validator(mode="after")
    def _names(self) -> SweepPlan:
        names = [p.name for p in self.points]
        taken = {BASELINE, CONTROL}
        dup = sorted({n for n in names if names.count(n) > 1} | (set(names) & taken))
        if dup:
            raise ValueError(f"point names must be unique and not {sorted(taken)}: {dup}")
        if self.reference and self.reference not in names:
            raise ValueError(f"reference {self.reference!r} is not a point ({names})")
        settings = [tuple(sorted(p.godebug.items())) for p in self.points]
        same = sorted(
            {
                p.name
                for p, s in zip(self.points, settings, strict=True)
                if settings.count(s) > 1 and not p.env
            }
        )
        if same:
            raise ValueError(f"points with the same knobs and no env of their own: {same}")
        return self

    @property
    def reference_point(self) -> str:
        return self.reference or self.points[0].name

    def variants(self) -> list[Variant]:
        """baseline (no patch), knobs-off (the control), then one variant per point."""
        common = {"go": self.go, "mode": self.mode}
        patched = {**common, "patches": self.patches}
        return [
            Variant(name=BASELINE, **common),
            Variant(name=CONTROL, **patched),
            *(
                Variant(name=p.name, **patched, godebug=dict(p.godebug), env=dict(p.env))
                for p in self.points
            ),
        ]

    def to_json(self) -> dict:
        return self.model_dump(mode="json", by_alias=True)


def _parse_values(flag: str, text: str) -> tuple[str, list[str]]:
    key, eq, values = text.partition("=")
    if not eq or not re.fullmatch(_KNOB, key) or not values:
        raise UsageError(f"{flag} {text!r}: want KNOB=V1[,V2…], e.g. gcrunnextfirst=0,1")
    return key, [v for v in values.split(",") if v]


def grid_points(knobs: list[str]) -> list[Point]:
    """`--knob K=V1,V2 …`: every combination; the all-"0" one is the control, left out."""
    axes = [_parse_values("--knob", k) for k in knobs]
    keys = [k for k, _ in axes]
    if len(set(keys)) != len(keys):
        raise UsageError(f"--knob: a knob named twice ({keys})")
    points = []
    for combo in itertools.product(*(values for _, values in axes)):
        on = {k: v for k, v in zip(keys, combo, strict=True) if v != "0"}
        if on:
            name = "+".join(f"{k}{v}" for k, v in on.items())
            points.append(Point(name=name, godebug=on))
    return points


def listed_points(points: list[str]) -> list[Point]:
    """`--point NAME:K=V[,K=V]` (repeat)."""
    out = []
    for text in points:
        name, sep, rest = text.partition(":")
        pairs = [p.partition("=") for p in rest.split(",") if p]
        if not sep or not name or not pairs or any(not eq or not v for _, eq, v in pairs):
            raise UsageError(
                f"--point {text!r}: want NAME:KNOB=V[,KNOB=V], e.g. runnext-first:gcrunnextfirst=1"
            )
        out.append(_point({"name": name, "godebug": {k: v for k, _, v in pairs}}, "--point"))
    return out


def _point(data: dict, where: str) -> Point:
    try:
        return Point.model_validate(data)
    except ValueError as exc:
        raise UsageError(f"{where} {data.get('name')!r}: {exc}") from exc


class PointTable(BaseModel):
    """`[[point]]` in TOML: knob values may be integers (`gcrunnextfirst = 1`)."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    name: PointName
    godebug: dict[Knob, int | str] = Field(min_length=1)
    env: dict[str, str] = Field(default_factory=dict)

    def point(self) -> Point:
        return Point(
            name=self.name, godebug={k: str(v) for k, v in self.godebug.items()}, env=dict(self.env)
        )


class SweepFile(BaseModel):
    """The TOML form: `go`, `mode`, `patches`, `reference`, and `[[point]]` tables or a
    `[grid]` table of knob = [values]."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    go: str
    mode: str = "make"
    patches: list[str] = Field(min_length=1)
    reference: str = ""
    keep_fraction: float = 0.8
    point: list[PointTable] = Field(default_factory=list)
    grid: dict[Knob, list[int | str]] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _one(self) -> SweepFile:
        if bool(self.point) == bool(self.grid):
            raise ValueError("give [[point]] tables or a [grid] table (one of them)")
        return self


def plan_from_toml(path: Path) -> SweepPlan:
    parsed = load_toml(path, SweepFile)
    base = path.parent
    if parsed.grid:
        points = grid_points([f"{k}={','.join(map(str, v))}" for k, v in parsed.grid.items()])
    else:
        points = [p.point() for p in parsed.point]
    return make_plan(
        parsed.go,
        parsed.mode,
        [p if Path(p).is_absolute() else str((base / p).resolve()) for p in parsed.patches],
        points,
        parsed.reference,
        parsed.keep_fraction,
        where=str(path),
    )


def make_plan(
    go: str,
    mode: str,
    patches: list[str],
    points: list[Point],
    reference: str = "",
    keep_fraction: float = 0.8,
    *,
    where: str = "sweep",
) -> SweepPlan:
    if not points:
        raise UsageError(f"{where}: no points: give --knob K=V1,V2 or --point NAME:K=V")
    if not patches:
        raise UsageError(f"{where}: a sweep needs the knob-gated patch (--patch FILE)")
    try:
        return SweepPlan(
            go=go,
            mode=mode,
            patches=tuple(patches),
            points=points,
            reference=reference,
            keep_fraction=keep_fraction,
        )
    except ValueError as exc:
        raise UsageError(f"{where}: {exc}") from exc
