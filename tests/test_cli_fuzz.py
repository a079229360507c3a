"""Every command and option, with generated values: no traceback, no hang, one line when refused.

The runs are in-process (`dwtui.cli.run`, as the installed command runs it) with a profiles file
that does not exist, so nothing is signed in to and no service is called: what is exercised is the
path from argv to the first refusal, where a bad value used to become a traceback (`--speed nan`,
a 100,000-character `--environment`, an app id that is not a GUID) or a hang (`--config` naming a
FIFO or /dev/zero).
"""

from __future__ import annotations

import contextlib
import io
import os
import string
import time
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dwtui.cli import run
from dwtui.cli.root import cli

# Exit codes the README's table documents.
DOCUMENTED = {0, 1, 2, 3, 4, 130}
DEADLINE = 5.0  # seconds one refused invocation may take (they take milliseconds)


def _commands() -> list[tuple[tuple[str, ...], click.Command]]:
    ctx = click.Context(cli)
    found: list[tuple[tuple[str, ...], click.Command]] = []

    def walk(command: click.Command, path: tuple[str, ...]) -> None:
        if isinstance(command, click.Group):
            for name in command.list_commands(ctx):
                sub = command.get_command(ctx, name)
                assert sub is not None
                walk(sub, (*path, name))
        else:
            found.append((path, command))

    walk(cli, ())
    return found


def _valued_params(command: click.Command) -> list[click.Parameter]:
    return [
        p
        for p in command.params
        if not (isinstance(p, click.Option) and (p.is_flag or p.hidden)) and p.name not in ("help",)
    ]


CASES = [
    (path, param.opts[0] if isinstance(param, click.Option) else f"<{param.name}>")
    for path, command in [((), cli), *_commands()]
    for param in _valued_params(command)
]


@pytest.fixture(scope="module")
def oddities(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    folder = tmp_path_factory.mktemp("oddities")
    fifo = folder / "fifo"
    os.mkfifo(fifo)
    deep = folder / "deep.toml"
    deep.write_text("a = " + "[" * 100_000, encoding="utf-8")
    return {
        "fifo": str(fifo),
        "directory": str(folder),
        "deep": str(deep),
        "missing": str(folder / "missing.toml"),
        "zero": "/dev/zero",
        "null": "/dev/null",
    }


def _value_strategy(oddities: dict[str, str]) -> st.SearchStrategy[str]:
    every_control = "".join(chr(c) for c in [*range(1, 32), 127, *range(0x80, 0xA0)])
    texts = st.text(
        alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=40
    )
    return st.one_of(
        texts,
        st.sampled_from(
            [
                "",
                "nan",
                "NaN",
                "inf",
                "-inf",
                "1e309",
                "-1",
                "0",
                "99999999999999999999",
                "0x10",
                "a" * 100_000,
                every_control,
                "\x1b]52;c;aGk=\x07",
                "\x1b[2J",
                "00000000-0000-0000-0000-00000000000g",
                *oddities.values(),
            ]
        ),
        st.text(alphabet=string.printable, min_size=1, max_size=300),
    )


# Options that create the file they name: a generated value stays a plain name in the test's own
# directory, never an absolute path or one that climbs out of it (an early version of this test,
# run as root, emptied a system file through `--trace ../../etc/passwd`).
WRITES = {"--trace", "--write-config"}


def _confined(option: str, value: str) -> str:
    if option in WRITES and (value.startswith(("/", "~")) or ".." in value or "/" in value):
        return "written-" + "".join(ch for ch in value if ch.isalnum())[:20]
    return value


def _argv(path: tuple[str, ...], option: str, value: str, missing_config: str) -> list[str]:
    value = _confined(option, value)
    base = ["--config", missing_config]
    if path == ():
        # The global option itself; the rest makes the run stop before any service (status needs
        # the config, which is missing unless --config is the one being tried).
        return [*([] if option == "--config" else base), option, value, "status", "--no-interactive"]
    # The simulator reads no profiles file: --config there is refused before its own options act.
    argv = [*path] if path == ("sim",) else [*base, *path]
    if path == ("sim",):
        # Without a refusal `sim` would serve until Ctrl+C: --scenario and --replay exclude each other.
        extra = {"--scenario": ["--replay", missing_config], "--replay": ["--scenario", "happy"]}
        argv += extra.get(option, ["--scenario", "happy", "--replay", missing_config])
    return [*argv, value] if option.startswith("<") else [*argv, option, value]


@contextlib.contextmanager
def _captured() -> Iterator[tuple[io.StringIO, io.StringIO]]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        yield out, err


def test_every_command_with_a_valued_option_is_fuzzed() -> None:
    commands = {path for path, _ in CASES}
    assert ("onebox", "verify") in commands and ("sim",) in commands and () in commands
    assert len(CASES) >= 25


@pytest.mark.parametrize(("path", "option"), CASES, ids=[f"{' '.join(p) or 'dwtui'} {o}" for p, o in CASES])
def test_generated_values_never_crash_or_hang(
    path: tuple[str, ...],
    option: str,
    oddities: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    for name in list(os.environ):
        if name.startswith(("AZURE_", "DWTUI_")):
            monkeypatch.delenv(name)
    # A generated --trace or --write-config value is a relative file name: it lands here, not in the
    # working tree.
    monkeypatch.chdir(tmp_path)

    @settings(
        max_examples=25,
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(value=_value_strategy(oddities))
    def check(value: str) -> None:
        argv = _argv(path, option, value, oddities["missing"])
        started = time.monotonic()
        with _captured() as (out, err):
            code = run(argv)  # an exception escaping here is the traceback a person would see
        took = time.monotonic() - started
        assert took < DEADLINE, f"{argv[:6]} took {took:.1f} s"
        assert code in DOCUMENTED, f"{argv[:6]} exited {code}"
        errors = err.getvalue()
        assert "Traceback" not in errors + out.getvalue()
        if code == 2:
            lines = [line for line in errors.splitlines() if line.strip()]
            assert len(lines) == 1 and lines[0].startswith("dwtui: "), (argv[:6], errors[:500])

    check()


def test_a_config_that_is_a_fifo_or_a_device_is_refused_at_once(oddities: dict[str, str]) -> None:
    for name in ("fifo", "zero", "directory", "deep"):
        started = time.monotonic()
        with _captured() as (_, err):
            code = run(["--config", oddities[name], "profiles"])
        assert code == 2 and time.monotonic() - started < DEADLINE
        message = err.getvalue()
        assert message.startswith("dwtui: ") and oddities[name] in message and message.count("\n") == 1


def test_speed_refuses_nan_and_infinities_by_name() -> None:
    for value in ("nan", "inf", "-inf"):
        for argv in (["--demo", "--speed", value, "status"], ["sim", "--speed", value]):
            with _captured() as (_, err):
                assert run(argv) == 2
            assert f"'{value}' is not a finite number" in err.getvalue()


def test_a_bad_app_id_is_refused_before_the_secret_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    stdin = io.StringIO("s3cret\n")
    monkeypatch.setattr("sys.stdin", stdin)
    with _captured() as (_, err):
        code = run(["--demo", "onebox", "verify", "--app-id", "zzz", "--secret-stdin"])
    assert code == 2 and err.getvalue().startswith("dwtui: --app-id: 'z' at position 1")
    assert stdin.read() == "s3cret\n"  # nothing read


def test_names_longer_than_any_service_allows_are_refused_with_the_limit(tmp_path: Path) -> None:
    with _captured() as (_, err):
        code = run(["--environment", "x" * 201, "status"])
    assert code == 2
    assert "'--environment': is 201 characters long; at most 200 are accepted" in err.getvalue()
