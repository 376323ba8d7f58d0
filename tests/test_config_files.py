"""Every bad configuration is a usage error (exit 2) that names the file and the key:
one table of bad `[[variant]]` files (run/ab --config) and bad `nightly.toml` files,
through the loaders and, for a few, through the real CLI."""

from __future__ import annotations

import pytest

from harness.config_files import NightlyFile, VariantsFile, load_toml
from harness.errors import UsageError
from harness.history.config import load_config
from harness.runs.variants import variants_from_toml
from tests.conftest import GO, stwbench

GOOD = f'[[variant]]\nname = "b"\ngo = "{GO}"\n'
SERIES = f'[[series]]\nname = "tip"\ngo = "{GO}"\n'

BAD_VARIANTS = [
    ("name is a number", f'[[variant]]\nname = 5\ngo = "{GO}"\n' + GOOD, "key name"),
    ("name with a slash", f'[[variant]]\nname = "a/b"\ngo = "{GO}"\n' + GOOD, "key name"),
    ("one variant", GOOD, "needs at least 2 [[variant]] tables"),
    ("no variant", 'reps = 3\n', "needs at least 2 [[variant]] tables"),
    ("unknown key", f'[[variant]]\nname = "a"\ngo = "{GO}"\ncolour = 1\n' + GOOD, "key colour"),
    ("neither go nor goroot", '[[variant]]\nname = "a"\n' + GOOD, "exactly one of go"),
    ("both go and goroot", f'[[variant]]\nname = "a"\ngo = "{GO}"\ngoroot = "/x"\n' + GOOD,
     "exactly one of go"),
    ("bad mode", f'[[variant]]\nname = "a"\ngo = "{GO}"\nmode = "fast"\n' + GOOD, "key mode"),
    ("patches not a list", f'[[variant]]\nname = "a"\ngo = "{GO}"\npatches = "p"\n' + GOOD,
     "key patches"),
    ("env value a number", f'[[variant]]\nname = "a"\ngo = "{GO}"\nenv = {{GOGC = 100}}\n' + GOOD,
     "key env.GOGC"),
    ("duplicate names", GOOD + GOOD, "repeated: ['b']"),
    ("mixed modes", f'[[variant]]\nname = "a"\ngo = "{GO}"\nmode = "source"\n' + GOOD,
     "same mode"),
    ("not TOML", "[[variant]\n", "not valid TOML"),
]  # fmt: skip

BAD_NIGHTLY = [
    ("no series", "reps = 3\n", "needs at least 1 [[series]] table"),
    ("reps zero", "reps = 0\n" + SERIES, "key reps"),
    ("reps a string", 'reps = "ten"\n' + SERIES, "key reps"),
    ("bad GOMAXPROCS", "gomaxprocs = [2, 0]\n" + SERIES, "GOMAXPROCS values must be ≥ 1"),
    ("GOMAXPROCS a string", 'gomaxprocs = "2"\n' + SERIES, "key gomaxprocs"),
    ("unknown top key", "colour = 1\n" + SERIES, "key colour: unknown key"),
    ("series name a number", f'[[series]]\nname = 7\ngo = "{GO}"\n', "key name"),
    ("control not a bool", SERIES + 'control = "yes"\n', "key control"),
    ("workloads a number", SERIES + "workloads = 3\n", "key workloads"),
    ("duplicate series", SERIES + SERIES, "repeated: ['tip']"),
    ("negative timeout", "timeout = -1\n" + SERIES, "key timeout"),
]


CASES = [(variants_from_toml, *c) for c in BAD_VARIANTS] + [(load_config, *c) for c in BAD_NIGHTLY]


@pytest.mark.parametrize(
    ("loader", "case", "text", "says"),
    CASES,
    ids=[f"{loader.__name__}: {case}" for loader, case, _, _ in CASES],
)
def test_bad_config_files_name_file_and_key(tmp_path, loader, case, text, says):
    path = tmp_path / "config.toml"
    path.write_text(text)
    with pytest.raises(UsageError) as caught:
        loader(path)
    message = str(caught.value)
    assert message.startswith(f"--config {path}: ") and says in message, message


def test_good_files_load_with_defaults_in_one_place(tmp_path):
    path = tmp_path / "n.toml"
    path.write_text("timeout = 300\ngomaxprocs = 2\n" + SERIES + 'patches = ["p.patch"]\n')
    nightly = load_toml(path, NightlyFile)
    assert nightly.timeout == 300.0 and nightly.gomaxprocs == [2] and nightly.reps == 10
    assert nightly.series[0].resolved_patches(tmp_path) == (str(tmp_path / "p.patch"),)
    variants = tmp_path / "v.toml"
    variants.write_text(GOOD.replace('"b"', '"a"') + GOOD)
    assert [v.name for v in load_toml(variants, VariantsFile).variant] == ["a", "b"]


def test_the_cli_exits_2_and_prints_the_table_name(tmp_path):
    """The console must not eat `[[variant]]` as markup, and no traceback (exit 2)."""
    path = tmp_path / "bad.toml"
    path.write_text(f'[[variant]]\nname = 5\ngo = "{GO}"\n' + GOOD)
    result = stwbench("run", "--config", path, "--out", tmp_path / "o")
    assert result.returncode == 2, result.stderr[-2000:]
    text = " ".join(result.stderr.split())
    assert "[[variant]] 1" in text and "key name" in text and "Traceback" not in text
    one = tmp_path / "one.toml"
    one.write_text(GOOD)
    result = stwbench("run", "--config", one, "--out", tmp_path / "o")
    assert result.returncode == 2 and "needs at least 2 [[variant]] tables" in result.stderr
