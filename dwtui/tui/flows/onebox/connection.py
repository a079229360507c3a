"""How dwtui reaches AXDB: a connection form (driver, server, database, login) or a raw ODBC string.

The password is read here only to be handed to the worker that connects; it is never shown, never
part of what the screen prints (connection strings are shown with PWD=***), and kept in the
keyring only when "remember" is ticked.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from textual import on
from textual.app import ComposeResult
from textual.containers import Grid, Vertical
from textual.widgets import Checkbox, Input, Label, RadioButton, RadioSet, Select

from dwtui.services.axdb import ConnectionForm, connection_string, redact_connection_string
from dwtui.tui.flows.onebox.step import first_empty


@dataclass(frozen=True, slots=True)
class ConnectionChoice:
    """What the person chose; `password` is "" when they typed none (the keyring's is used)."""

    raw: str  # the ODBC connection string, when that mode is chosen
    form: ConnectionForm | None
    password: str = ""
    remember: bool = False

    @property
    def needs_password(self) -> bool:
        return self.form is not None and self.form.login == "sql"

    def shown(self) -> str:
        """The connection string as the screen may show it: the password masked."""
        if self.form is None:
            return redact_connection_string(self.raw)
        # Raises ServiceError for a missing driver or user name: the form's one clear message.
        return redact_connection_string(connection_string(self.form, "***" if self.needs_password else ""))


class ConnectionPanel(Vertical):
    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id, classes="onebox-connection")
        self.stored_password = False
        self.drivers: list[str] = []

    def compose(self) -> ComposeResult:
        with RadioSet(id="sql-mode", compact=True):
            yield RadioButton("Form", id="mode-form", value=True, compact=True)
            yield RadioButton("ODBC connection string", id="mode-raw", compact=True)
        with Grid(id="sql-form", classes="onebox-form"):
            yield Label("ODBC driver", classes="onebox-label")
            yield Select[str]([], prompt="Looking for drivers...", id="sql-driver", compact=True)
            yield Label("Server", classes="onebox-label")
            yield Input("localhost", id="sql-server", compact=True)
            yield Label("Database", classes="onebox-label")
            yield Input("AXDB", id="sql-database", compact=True)
            yield Label("Login", classes="onebox-label")
            with RadioSet(id="sql-login", compact=True):
                yield RadioButton("Windows", id="login-windows", value=True, compact=True)
                yield RadioButton("SQL login", id="login-sql", compact=True)
            yield Label("User", classes="onebox-label")
            yield Input(placeholder="type the SQL login name", id="sql-user", compact=True, disabled=True)
            yield Label("Password", classes="onebox-label")
            yield Input(
                placeholder="type the SQL login's password",
                id="sql-password",
                password=True,
                compact=True,
                disabled=True,
            )
            yield Label("")
            with Vertical(classes="onebox-field"):
                yield Checkbox("Remember in the keyring", id="sql-remember", compact=True, disabled=True)
                yield Checkbox("Encrypt", True, id="sql-encrypt", compact=True)
                yield Checkbox("TrustServerCertificate", True, id="sql-trust", compact=True)
        with Grid(id="sql-raw", classes="onebox-form"):
            yield Label("ODBC string", classes="onebox-label")
            yield Input(
                placeholder="type an ODBC connection string: Driver={...};Server=...;Database=AXDB",
                id="sql-raw-string",
                compact=True,
            )

    def on_mount(self) -> None:
        self.query_one("#sql-raw").display = False
        self.query_one("#sql-driver", Select).loading = True

    # -- from the screen --------------------------------------------------------------------------

    def show_drivers(self, drivers: Sequence[str], stored_password: bool) -> None:
        self.stored_password = stored_password
        self.drivers = list(drivers)
        select = self.query_one("#sql-driver", Select)
        select.loading = False
        select.set_options((name, name) for name in drivers)
        if drivers:
            select.value = drivers[0]  # SQL Server drivers come first, newest first
        else:
            select.prompt = "No ODBC driver installed"
        if stored_password:
            self.query_one(
                "#sql-password", Input
            ).placeholder = "type to replace the password kept in the keyring"

    def show_drivers_missing(self, message: str) -> None:
        select = self.query_one("#sql-driver", Select)
        select.loading = False
        select.prompt = "No ODBC driver manager"
        select.tooltip = message

    def first_empty(self) -> Input | Select[str] | None:
        """The first connection field still to fill in (the password may come from the keyring)."""
        if self.query_one("#mode-raw", RadioButton).value:
            return first_empty(self.query_one("#sql-raw-string", Input))
        driver = [self.query_one("#sql-driver", Select)] if self.drivers else []
        inputs = [
            self.query_one(selector, Input) for selector in ("#sql-server", "#sql-database", "#sql-user")
        ]
        return first_empty(*driver, *inputs)

    def use_raw(self, text: str) -> None:
        """The demo: its local AXDB file, reached through the same ODBC code."""
        self.query_one("#sql-raw-string", Input).value = text
        self.query_one("#mode-raw", RadioButton).value = True

    def choice(self) -> ConnectionChoice:
        if self.query_one("#mode-raw", RadioButton).value:
            return ConnectionChoice(raw=self.query_one("#sql-raw-string", Input).value.strip(), form=None)
        driver = self.query_one("#sql-driver", Select).value
        sql_login = self.query_one("#login-sql", RadioButton).value
        form = ConnectionForm(
            driver=driver if isinstance(driver, str) else "",
            server=self.query_one("#sql-server", Input).value,
            database=self.query_one("#sql-database", Input).value,
            login="sql" if sql_login else "windows",
            username=self.query_one("#sql-user", Input).value,
            encrypt=self.query_one("#sql-encrypt", Checkbox).value,
            trust_server_certificate=self.query_one("#sql-trust", Checkbox).value,
        )
        return ConnectionChoice(
            raw="",
            form=form,
            password=self.query_one("#sql-password", Input).value if sql_login else "",
            remember=sql_login and self.query_one("#sql-remember", Checkbox).value,
        )

    # -- input --------------------------------------------------------------------------------------

    @on(RadioSet.Changed, "#sql-mode")
    def _mode_changed(self, event: RadioSet.Changed) -> None:
        event.stop()
        raw = event.pressed.id == "mode-raw"
        self.query_one("#sql-form").display = not raw
        self.query_one("#sql-raw").display = raw

    @on(RadioSet.Changed, "#sql-login")
    def _login_changed(self, event: RadioSet.Changed) -> None:
        event.stop()
        sql_login = event.pressed.id == "login-sql"
        for selector in ("#sql-user", "#sql-password", "#sql-remember"):
            self.query_one(selector).disabled = not sql_login
