"""GODEBUG knobs: which settings a toolchain's runtime knows.

The runtime ignores a GODEBUG key it does not know. A knob variant with a misspelt key
(`gcrunextfirst=1`) would run the knobs-off scheduler under the knob's name, and the sweep
would report a design that never ran. So a variant's knobs are checked against the
settings the built tree registers: the runtime's own (`dbgvars` in
src/runtime/runtime1.go, where a knob-gated patch adds its settings) and the
compatibility settings of src/internal/godebugs/table.go.
"""

from __future__ import annotations

import re
from pathlib import Path

from harness.errors import UsageError

_DBGVAR = re.compile(r'\{name:\s*"([a-z0-9]+)"')
_GODEBUGS = re.compile(r'\{Name:\s*"([a-z0-9]+)"')


def registered_settings(goroot: Path) -> set[str]:
    """GODEBUG keys this GOROOT's sources register."""
    names: set[str] = set()
    for rel, pattern in (
        ("src/runtime/runtime1.go", _DBGVAR),
        ("src/internal/godebugs/table.go", _GODEBUGS),
    ):
        path = goroot / rel
        if path.is_file():
            names.update(pattern.findall(path.read_text(errors="replace")))
    return names


def check_knobs(who: str, knobs: dict[str, str], goroot: Path) -> None:
    """UsageError naming `who` (the variant, the flag) and the key when a knob is not a
    registered setting."""
    if not knobs:
        return
    known = registered_settings(goroot)
    unknown = sorted(set(knobs) - known)
    if unknown:
        near = sorted(k for k in known if k.startswith("gc"))
        raise UsageError(
            f"{who}: GODEBUG knob(s) {', '.join(unknown)} not registered by its "
            f"toolchain's runtime ({goroot}/src/runtime/runtime1.go dbgvars); the runtime "
            f"would ignore them. Does the variant apply the knob patch? gc* settings it "
            f"knows: {', '.join(near) or 'none'}"
        )
