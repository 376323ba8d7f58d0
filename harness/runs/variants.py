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

from dataclasses import asdict, dataclass, field
from pathlib import Path

from harness.config_files import VariantsFile, load_toml
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
    """The [[variant]] tables of a --config file (harness/config_files.py validates them:
    a bad value is a UsageError naming the file, the table and the key)."""
    parsed = load_toml(path, VariantsFile)
    return [
        Variant(
            name=r.name,
            go=r.go,
            goroot=r.goroot,
            patches=r.resolved_patches(path.parent),
            mode=r.mode,
            env=dict(r.env),
        )
        for r in parsed.variant
    ]
