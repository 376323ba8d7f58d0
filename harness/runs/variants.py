"""Variants: a named toolchain recipe plus the environment its processes get.

From CLI flags (`--go 1.27.3 --patch P` → `baseline` and `<patch stem>`) or a TOML file
in the spirit of sweet's `[[config]]`:

    [[variant]]
    name = "baseline"
    go = "1.27.3"
    mode = "make"

    [[variant]]
    name = "runqget-priority"
    go = "1.27.3"
    mode = "make"
    patches = ["patches/runqget-priority.patch"]
    env = { GOGC = "100" }
"""

from __future__ import annotations

import tomllib
from dataclasses import asdict, dataclass, field
from pathlib import Path

from harness.errors import UsageError
from harness.toolchains import ToolchainSpec


@dataclass(frozen=True)
class Variant:
    name: str
    go: str | None = None
    goroot: str | None = None
    patches: tuple[str, ...] = ()
    mode: str = "make"
    env: dict[str, str] = field(default_factory=dict)

    def spec(self, executor: str, cpuset: str | None = None) -> ToolchainSpec:
        return ToolchainSpec(
            go=self.go,
            goroot=Path(self.goroot) if self.goroot else None,
            patches=tuple(Path(p) for p in self.patches),
            mode=self.mode,
            executor=executor,
            cpuset=cpuset,
        )

    def to_json(self) -> dict:
        data = asdict(self)
        data["patches"] = list(self.patches)
        return data

    @classmethod
    def from_json(cls, data: dict) -> Variant:
        return cls(
            name=data["name"],
            go=data.get("go"),
            goroot=data.get("goroot"),
            patches=tuple(data.get("patches", ())),
            mode=data.get("mode", "make"),
            env=dict(data.get("env", {})),
        )


def variants_from_flags(
    go: str | None, goroot: str | None, patches: list[str], mode: str
) -> list[Variant]:
    """Baseline plus one candidate carrying the whole patch series (named for its last patch)."""
    if not patches:
        raise UsageError("give at least one --patch (the candidate), or a --config TOML file")
    baseline = Variant(name="baseline", go=go, goroot=goroot, mode=mode)
    name = Path(patches[-1]).stem
    return [baseline, Variant(name=name, go=go, goroot=goroot, patches=tuple(patches), mode=mode)]


def variants_from_toml(path: Path) -> list[Variant]:
    try:
        data = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise UsageError(f"--config {path}: {exc}") from exc
    entries = data.get("variant", [])
    if len(entries) < 2:
        raise UsageError(f"--config {path}: needs at least two [[variant]] tables")
    variants = []
    for entry in entries:
        unknown = set(entry) - {"name", "go", "goroot", "patches", "mode", "env"}
        if unknown or "name" not in entry:
            raise UsageError(
                f"--config {path}: variant {entry.get('name')!r}: "
                f"needs name; unknown keys {sorted(unknown)}"
            )
        patches = tuple(
            str((path.parent / p).resolve()) if not Path(p).is_absolute() else p
            for p in entry.get("patches", [])
        )
        variants.append(Variant.from_json({**entry, "patches": patches}))
    names = [v.name for v in variants]
    if len(set(names)) != len(names):
        raise UsageError(f"--config {path}: variant names must be unique, got {names}")
    modes = {v.mode for v in variants}
    if len(modes) > 1:
        raise UsageError(
            f"--config {path}: all variants must use the same mode "
            f"(got {sorted(modes)}): compare like with like"
        )
    return variants
