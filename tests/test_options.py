"""One configuration model: RunOptions (harness/rundir/models.py) holds every run
option's default and limits; the CLI flags, nightly.toml's settings and the manifest all
go through it, and a bad value is exit 2 naming the flag or the key."""

from __future__ import annotations

import argparse

import pytest

from harness.commands.options import FLAGS, default, options_from_args
from harness.commands.run import add_run_arguments
from harness.config_files import NightlyFile
from harness.errors import UsageError
from harness.metrics import CONSOLE_SUMMARY, is_headline
from harness.rundir import QUICK, RunOptions, quick
from tests.conftest import GO, RUNQGET, stwbench


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_run_arguments(parser)
    return parser.parse_args(list(argv))


def test_no_flag_given_is_exactly_the_models_defaults():
    options = options_from_args(parse())
    assert options == RunOptions()
    assert options.gomaxprocs == default("gomaxprocs")


def test_every_mapped_flag_exists_and_names_a_field():
    parser = argparse.ArgumentParser()
    add_run_arguments(parser)
    known = {flag for action in parser._actions for flag in action.option_strings}
    for flag, field in FLAGS.items():
        assert flag in known and field in RunOptions.model_fields


def test_flags_set_their_fields():
    options = options_from_args(
        parse("--reps", "3", "--gomaxprocs", "1,2", "--trace", "--trace-reps", "2",
              "--scheddetail", "--no-gate", "--claims", "--timeout", "60")
    )  # fmt: skip
    assert (options.reps, options.gomaxprocs, options.trace, options.trace_reps) == (
        3, [1, 2], True, 2,
    )  # fmt: skip
    assert options.schedtrace == "detail" and options.gate is False and options.claims
    assert options.timeout_s == 60.0


@pytest.mark.parametrize(
    "argv, flag",
    [
        (("--reps", "0"), "--reps"),
        (("--gomaxprocs", "0"), "gomaxprocs"),
        (("--gomaxprocs", "two"), "--gomaxprocs"),
        (("--timeout", "0"), "--timeout"),
        (("--target-seconds", "-1"), "--target-seconds"),
        (("--probe-duration", "0"), "--probe-duration"),
        (("--trace", "--trace-reps", "0"), "--trace-reps"),
        (("--trace-reps", "2"), "--trace-reps N goes with --trace"),
        (("--trace", "--trace-after-stw-us", "0"), "--trace-after-stw-us"),
        (("--noise-retries", "-1"), "--noise-retries"),
    ],
)
def test_a_bad_flag_value_is_a_usage_error_naming_the_flag(argv, flag):
    with pytest.raises(UsageError) as caught:
        options_from_args(parse(*argv))
    assert flag in str(caught.value)


def test_a_bad_flag_exits_2_without_a_traceback(tmp_path):
    result = stwbench("run", "--go", GO, "--patch", RUNQGET, "--reps", "0", "--out", tmp_path)
    assert result.returncode == 2
    assert "--reps" in result.stderr and "Traceback" not in result.stderr
    assert not any(tmp_path.iterdir())  # nothing was created


def test_help_shows_the_models_defaults():
    result = stwbench("run", "--help")
    assert result.returncode == 0
    assert f"(default {default('reps')})" in result.stdout
    assert f"(default {default('timeout_s'):g})" in " ".join(result.stdout.split())


def test_quick_is_one_rule_for_every_command():
    capped = quick(RunOptions(reps=30, target_s=1.0, probe_duration_s=2.0))
    assert (capped.reps, capped.target_s, capped.probe_duration_s) == tuple(QUICK.values())
    assert quick(RunOptions(reps=2)).reps == 2  # never raises what was asked for


def test_nightly_settings_default_to_the_run_options():
    parsed = NightlyFile.model_validate({"series": [{"name": "a", "go": GO}]})
    assert parsed.options() == RunOptions()


def test_the_console_summary_lists_headline_metrics_only():
    assert CONSOLE_SUMMARY and all(is_headline(m) for m in CONSOLE_SUMMARY)


def test_patch_metadata_turns_the_claims_section_on(tmp_path):
    from harness.commands.run import new_run_from_args
    from harness.rundir import RunDir
    from harness.runs import patches_want_claims

    plain = tmp_path / "plain.patch"
    plain.write_text(RUNQGET.read_text())
    assert patches_want_claims([]) is False
    args = parse(
        "--go", GO, "--patch", str(RUNQGET), "--workloads", "probe", "--out", str(tmp_path)
    )
    run = new_run_from_args(args)
    assert RunDir.open(run.run_dir).manifest.options.claims is True  # runqget-priority.toml
    args = parse("--go", GO, "--patch", str(plain), "--workloads", "probe", "--out", str(tmp_path))
    assert new_run_from_args(args).options.claims is False  # no metadata, no --claims
    (tmp_path / "plain.toml").write_text("claims = 'yes'\n")
    with pytest.raises(UsageError, match=r"plain.toml: key claims: want true or false"):
        new_run_from_args(args)
