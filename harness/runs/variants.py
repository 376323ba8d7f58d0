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

import re
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
    "with_baseline",
    "with_env",
]


def toolchain_spec(variant: Variant, executor: str, cpuset: str | None = None) -> ToolchainSpec:
    """What the toolchains stage builds for a variant."""
    return ToolchainSpec(
        go=variant.go,
        goroot=Path(variant.goroot) if variant.goroot else None,
        go_git=Path(variant.go_git) if variant.go_git else None,
        ref=variant.ref,
        bootstrap=variant.bootstrap,
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
    go: str | None,
    goroot: str | None,
    patches: list[str],
    mode: str,
    *,
    go_git: str | None = None,
    ref: str | None = None,
    base: str | None = None,
    head: str | None = None,
    bootstrap: str | None = None,
) -> list[Variant]:
    """The variants the flags describe:
    - `--go/--goroot/--go-git … --ref R` with `--patch P…`: `baseline` and one candidate
      carrying the whole patch series (named for its last patch);
    - `--go-git REPO --base A --head B [--patch P…]`: commit A against commit B (+ the
      patches), named for the refs (`origin/master` → `origin_master`)."""
    if (base is None) != (head is None):
        raise UsageError("--base and --head go together (two refs of --go-git)")
    if base is not None:
        if go_git is None:
            raise UsageError("--base/--head name commits of a --go-git repository")
        if ref is not None:
            raise UsageError("give --ref REF (with --patch) or --base/--head, not both")
        names = _ref_names(base, head or "")
        common = {"go_git": go_git, "bootstrap": bootstrap, "mode": mode}
        return [
            Variant(name=names[0], ref=base, **common),
            Variant(name=names[1], ref=head, patches=tuple(patches), **common),
        ]
    if go_git is not None and ref is None:
        raise UsageError("--go-git REPO needs --ref REF (with --patch), or --base A --head B")
    if go_git is None and (ref is not None or bootstrap is not None):
        raise UsageError("--ref and --bootstrap go with --go-git REPO")
    if not patches:
        raise UsageError("give at least one --patch (the candidate), or a --config TOML file")
    common = {"go": go, "goroot": goroot, "go_git": go_git, "ref": ref, "bootstrap": bootstrap}
    baseline = Variant(name="baseline", mode=mode, **common)
    name = Path(patches[-1]).stem
    return [baseline, Variant(name=name, patches=tuple(patches), mode=mode, **common)]


def _ref_names(base: str, head: str) -> tuple[str, str]:
    """Variant names for two refs: letters, digits and ._+- (paths and tables use them)."""

    def safe(ref: str) -> str:
        text = re.sub(r"[^A-Za-z0-9._+-]+", "_", ref).strip("_.") or "ref"
        return text if text[0].isalnum() else f"r{text}"

    first, second = safe(base), safe(head)
    return (first, second) if first != second else ("base", "head")


def with_env(variants: list[Variant], settings: list[str]) -> list[Variant]:
    """`--env NAME:KEY=VAL` (repeatable): environment for one variant's processes (GOGC,
    GOMEMLIMIT, GODEBUG…), over its recipe's; `all:KEY=VAL` for every variant."""
    names = [v.name for v in variants]
    extra: dict[str, dict[str, str]] = {}
    for setting in settings:
        name, sep, assignment = setting.partition(":")
        key, eq, value = assignment.partition("=")
        if not sep or not eq or not key or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key):
            raise UsageError(f"--env {setting!r}: want NAME:KEY=VALUE, e.g. baseline:GOGC=200")
        targets = names if name == "all" else [name]
        if name != "all" and name not in names:
            raise UsageError(f"--env {setting!r}: no variant {name!r} (variants: {names})")
        for target in targets:
            extra.setdefault(target, {})[key] = value
    return [v.model_copy(update={"env": {**v.env, **extra.get(v.name, {})}}) for v in variants]


def with_baseline(variants: list[Variant], name: str | None) -> list[Variant]:
    """`--baseline NAME`: that variant first (the one every other is compared with)."""
    if name is None:
        return variants
    chosen = [v for v in variants if v.name == name]
    if not chosen:
        raise UsageError(f"--baseline {name!r}: no such variant ({[v.name for v in variants]})")
    return chosen + [v for v in variants if v.name != name]


def variants_from_toml(path: Path) -> list[Variant]:
    """The [[variant]] tables of a --config file (harness/config_files.py validates them:
    a bad value is a UsageError naming the file, the table and the key)."""
    parsed = load_toml(path, VariantsFile)
    return [recipe.variant(path.parent) for recipe in parsed.variant]
