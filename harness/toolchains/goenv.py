"""The environment every go command of ours runs in (DESIGN.md, "Toolchain")."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

# Variables from the user's shell that would change which toolchain or module source
# the go command uses; ours are set explicitly instead.
_DROPPED = (
    "GOROOT",
    "GOPATH",
    "GOFLAGS",
    "GOTOOLCHAIN",
    "GOPROXY",
    "GOENV",
    "GOEXPERIMENT",
    "GODEBUG",
    "GOMAXPROCS",
    "GOGC",
    "GOMEMLIMIT",
    "GOARCH",
    "GOOS",
    "CGO_ENABLED",
)


def go_env(goroot: Path, **overrides: str) -> dict[str, str]:
    """Base environment: GOTOOLCHAIN=local GOPROXY=off GOFLAGS=-mod=mod, GOROOT pinned.

    GOTOOLCHAIN=local is the important one: without it a go.mod `toolchain` line could
    make the go command download and run some other Go, silently.
    """
    env = {k: v for k, v in os.environ.items() if k not in _DROPPED}
    env.update(
        {
            "GOROOT": str(goroot),
            "GOTOOLCHAIN": "local",
            "GOPROXY": "off",
            "GOFLAGS": "-mod=mod",
            "GOENV": "off",
            "CGO_ENABLED": "0",
            "PATH": f"{goroot / 'bin'}{os.pathsep}{env.get('PATH', '')}",
        }
    )
    env.update(overrides)
    return env


def go_version_output(goroot: Path) -> str:
    """`bin/go version` of a GOROOT, e.g. 'go version go1.27.3 linux/amd64'."""
    result = subprocess.run(
        [str(goroot / "bin" / "go"), "version"],
        env=go_env(goroot),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return (result.stdout or result.stderr).strip()
