"""The layer rules hold: import-linter's contracts, a light CLI, and pyodbc only when a feature needs it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent


def _modules_after(code: str) -> set[str]:
    """The top-level packages in sys.modules after running `code` in a fresh interpreter."""
    probe = f"{code}\nimport json, sys\nprint(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}})))"
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    return set(json.loads(done.stdout.strip().splitlines()[-1]))


def test_import_linter_contracts_hold() -> None:
    done = subprocess.run(
        [str(VENV_BIN / "lint-imports"), "--no-cache"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "BROKEN" not in done.stdout
    assert "6 kept, 0 broken" in done.stdout


def test_cli_module_loads_no_tui_auth_or_database_library() -> None:
    loaded = _modules_after("import dwtui.cli")
    assert {"textual", "msal", "pyodbc"}.isdisjoint(loaded), loaded & {"textual", "msal", "pyodbc"}
    assert "click" in loaded  # the probe really ran the import


def test_help_loads_no_tui_auth_or_database_library() -> None:
    code = (
        "from dwtui.cli import run\n"
        "import contextlib, io\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    assert run(['--help']) == 0\n"
    )
    loaded = _modules_after(code)
    assert {"textual", "msal", "pyodbc"}.isdisjoint(loaded)


def test_no_module_imports_pyodbc_at_import_time() -> None:
    # Importing every module of the package must not need an ODBC driver manager: pyodbc is
    # imported only inside the functions that talk to a database.
    code = (
        "import importlib, pkgutil, dwtui\n"
        "for info in pkgutil.walk_packages(dwtui.__path__, 'dwtui.'):\n"
        "    importlib.import_module(info.name)\n"
    )
    loaded = _modules_after(code)
    assert "pyodbc" not in loaded
    assert "textual" in loaded  # the walk reached the TUI modules


def test_every_module_imports_where_pyodbc_cannot_load() -> None:
    # sys.modules[name] = None makes `import pyodbc` raise ImportError, as on a machine without
    # unixODBC: nothing may fail at import time.
    code = (
        "import sys\n"
        "sys.modules['pyodbc'] = None\n"
        "import importlib, pkgutil, dwtui\n"
        "names = [info.name for info in pkgutil.walk_packages(dwtui.__path__, 'dwtui.')]\n"
        "for name in names:\n"
        "    importlib.import_module(name)\n"
        "assert len(names) > 10, names\n"
    )
    _modules_after(code)


def test_tui_app_module_paints_without_service_libraries() -> None:
    """The first frame must not wait for MSAL, httpx, keyring, ODBC or the simulator to import."""
    loaded = _modules_after("import dwtui.tui.app")
    heavy = {"msal", "httpx", "keyring", "pyodbc", "starlette", "uvicorn", "cryptography"}
    assert heavy.isdisjoint(loaded), loaded & heavy
    assert "textual" in loaded


def test_every_command_module_is_in_the_lazy_registry() -> None:
    """A command registered by a module the lazy group never imports would vanish from `dwtui`."""
    import ast

    from dwtui.cli.root import COMMAND_MODULES

    registered: dict[str, str] = {}
    for path in (ROOT / "dwtui" / "cli").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.FunctionDef):
                continue
            for decorator in node.decorator_list:
                call = decorator if isinstance(decorator, ast.Call) else None
                target = call.func if call is not None else decorator
                if (
                    isinstance(target, ast.Attribute)
                    and isinstance(target.value, ast.Name)
                    and target.value.id == "cli"
                    and target.attr in ("command", "group")
                ):
                    registered[node.name.replace("_", "-")] = path.stem
    assert registered, "no command found: the walk is broken"
    for command, module in registered.items():
        assert module in COMMAND_MODULES.get(command, ()), (command, module)
    assert set(registered) == set(COMMAND_MODULES)
