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
from pathlib import Path

from harness.config_files import VariantsFile, load_toml
from harness.errors import UsageError
from harness.rundir import Variant
from harness.toolchains import ToolchainSpec

__all__ = [
    "Variant",
    "patches_want_claims",
    "toolchain_spec",
    "variants_from_flags",
    "variants_from_toml",
]


def toolchain_spec(variant: Variant, executor: str, cpuset: str | None = None) -> ToolchainSpec:
    """What the toolchains stage builds for a variant."""
    return ToolchainSpec(
        go=variant.go,
        goroot=Path(variant.goroot) if variant.goroot else None,
        patches=tuple(Path(p) for p in variant.patches),
        mode=variant.mode,
        executor=executor,
        cpuset=cpuset,
    )


def patches_want_claims(variants: list[Variant]) -> bool:
    """Whether a variant applies a patch whose metadata (`<patch>.toml` beside it, key
    `claims`) asks for the article's claims section in the report."""
    for variant in variants:
        for patch in variant.patches:
            meta = Path(patch).with_suffix(".toml")
            if not meta.is_file():
                continue
            try:
                data = tomllib.loads(meta.read_text())
            except (OSError, tomllib.TOMLDecodeError) as exc:
                raise UsageError(f"{meta}: not valid TOML: {exc}") from exc
            claims = data.get("claims", False)
            if not isinstance(claims, bool):
                raise UsageError(f"{meta}: key claims: want true or false, got {claims!r}")
            if claims:
                return True
    return False


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
