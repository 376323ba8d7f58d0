"""Forward migrations of manifest.json, one function per schema step.

A run directory is never rewritten by a reader: `stwbench report` migrates the manifest
in memory; only a command that continues the run (`run --resume`, `ab`) saves it, in the
newest schema. Add a step here, bump models.SCHEMA, and keep a captured run directory
of the old schema under tests/fixtures/ that must still load and render the same
verdicts (tests/test_rundir.py).

Schema history:
- 1 (until 2026-12-01): the first manifest. The baseline was "the first variant" and the
  A/A arm "the variant named <baseline>-aa", guessed by every reader; every report ran
  the article's claims.
- 2: `baseline` and `aa_arm` are recorded; `options.claims` says whether the report has
  the article's claims section (schema-1 reports always had it, so migrated runs keep it).
- 3: a variant may carry GODEBUG knobs (`variants[].godebug`), and a gate record the knobs
  it ran with (`toolchains.<variant>.gate.godebug`); both default to none, so a schema-2
  manifest only changes its number.
- 4: processes may run in containers on Docker engines: `options.run_executor` (default
  local), `options.engines`, `engines` (what each engine was, whether it was lost) and
  `processes.<slug>.engine`; all default to a local run, so a schema-3 manifest only
  changes its number.
"""

from __future__ import annotations

from collections.abc import Callable

from harness.rundir.models import AA_SUFFIX, SCHEMA


def _v1_to_v2(data: dict) -> dict:
    data = dict(data)
    names = [v["name"] for v in data.get("variants", [])]
    baseline = names[0] if names else ""
    data["baseline"] = baseline
    arm = f"{baseline}{AA_SUFFIX}"
    data["aa_arm"] = arm if arm in names else None
    data["options"] = {**data.get("options", {}), "claims": True}
    data["schema"] = 2
    return data


def _v2_to_v3(data: dict) -> dict:
    return {**data, "schema": 3}


def _v3_to_v4(data: dict) -> dict:
    return {**data, "schema": 4}


MIGRATIONS: dict[int, Callable[[dict], dict]] = {1: _v1_to_v2, 2: _v2_to_v3, 3: _v3_to_v4}


class SchemaError(ValueError):
    pass


def migrate(data: dict) -> dict:
    """`data` (a parsed manifest of any known schema) in the current schema."""
    version = data.get("schema")
    if not isinstance(version, int):
        raise SchemaError(f"no integer `schema` key (got {version!r})")
    if version > SCHEMA:
        raise SchemaError(
            f"schema {version} is newer than this stwbench knows ({SCHEMA}): upgrade stwbench"
        )
    while version < SCHEMA:
        step = MIGRATIONS.get(version)
        if step is None:
            raise SchemaError(f"schema {version}: no migration to {version + 1}")
        data = step(data)
        version = data["schema"]
    return data
