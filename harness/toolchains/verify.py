"""Is the built toolchain what we asked for? Version, and the patch in the binary.

1. `bin/go version` must name the requested version.
2. The canary (canary/main.go plus blank imports of the packages the patches touch) is
   built reproducibly (-trimpath, no VCS stamp, empty build id) by the new toolchain and
   by the unpatched source toolchain. With patches, the binaries must differ. Without
   patches we record whether they are identical (make.bash reproducing the release).
"""

from __future__ import annotations

import hashlib
import subprocess
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path, PurePosixPath

from harness.errors import BuildError
from harness.toolchains.goenv import go_env, go_version_output
from harness.toolchains.patches import Patch

CANARY_SOURCE = Path(__file__).with_name("canary") / "main.go"


@dataclass(frozen=True)
class Verification:
    go_version_output: str
    canary_packages: list[str]
    canary_sha256: str
    reference_canary_sha256: str
    canary_differs_from_unpatched: bool

    def to_json(self) -> dict:
        return asdict(self)


def check_version(goroot: Path, version: str) -> str:
    output = go_version_output(goroot)
    if not output.startswith(f"go version go{version} ") and output != f"go version go{version}":
        raise BuildError(
            f"{goroot}/bin/go reports {output!r}, not go{version}: refusing a toolchain "
            "that is not what was requested"
        )
    return output


def linked_packages(series: list[Patch]) -> list[str]:
    """Import paths of std packages a series changes that a program can import."""
    packages = {"runtime"}
    for patch in series:
        for rel in patch.files:
            path = PurePosixPath(rel)
            if (
                len(path.parts) < 3
                or path.parts[0] != "src"
                or path.suffix != ".go"
                or path.name.endswith("_test.go")
            ):
                continue
            package = PurePosixPath(*path.parts[1:-1]).as_posix()
            if package.startswith("cmd/") or any(
                part in ("internal", "vendor", "testdata") for part in path.parts
            ):
                continue  # not importable from a program; runtime pulls internals in
            packages.add(package)
    return sorted(packages)


def build_canary(goroot: Path, packages: list[str], workdir: Path, gocache: Path) -> str:
    """Build the canary with `goroot`; return the binary's sha256."""
    src = workdir / f"canary-{hashlib.sha256(str(goroot).encode()).hexdigest()[:8]}"
    src.mkdir(parents=True, exist_ok=True)
    (src / "go.mod").write_text("module stwbench.canary\n\ngo 1.21\n")
    main = CANARY_SOURCE.read_text()
    extra = "".join(f'\t_ "{p}"\n' for p in packages if p not in ("runtime", "fmt", "sync"))
    if extra:
        main = main.replace("import (\n", f"import (\n{extra}", 1)
    (src / "main.go").write_text(main)
    binary = src / "canary"
    command = [
        str(goroot / "bin" / "go"),
        "build",
        "-trimpath",
        "-buildvcs=false",
        "-ldflags=-buildid=",
        "-o",
        str(binary),
        ".",
    ]
    result = subprocess.run(
        command,
        cwd=src,
        env=go_env(goroot, GOCACHE=str(gocache)),
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    if result.returncode != 0:
        raise BuildError(f"the canary does not build with {goroot}:\n{result.stderr.strip()}")
    return hashlib.sha256(binary.read_bytes()).hexdigest()


def verify(
    goroot: Path, reference: Path, version: str, series: list[Patch], gocache: Path
) -> Verification:
    output = check_version(goroot, version)
    packages = linked_packages(series)
    with tempfile.TemporaryDirectory(prefix="stwbench-canary-") as work:
        built = build_canary(goroot, packages, Path(work), gocache)
        ref = build_canary(reference, packages, Path(work), gocache)
    differs = built != ref
    touches_linked_code = any(
        rel.endswith(".go")
        and not rel.endswith("_test.go")
        and rel.startswith("src/")
        and not rel.startswith("src/cmd/")
        for patch in series
        for rel in patch.files
    )
    if series and touches_linked_code and not differs:
        names = ", ".join(p.name for p in series)
        raise BuildError(
            f"the canary built with the patched toolchain ({names}) is byte-identical to the "
            "unpatched one: the patch did not reach the compiled runtime"
        )
    return Verification(output, packages, built, ref, differs)
