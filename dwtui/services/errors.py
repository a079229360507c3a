"""The one exception services raise: a Fault a person can act on (see domain.errors.explain)."""

from __future__ import annotations

from dwtui.domain.models import Fault


class ServiceError(Exception):
    def __init__(self, fault: Fault) -> None:
        self.fault = fault
        code = f" [{fault.code}]" if fault.code else ""
        super().__init__(f"{fault.service}{code}: {fault.message}")


class SignInRequired(ServiceError):
    """No token can be had silently: the front end must run an interactive sign-in."""

    def __init__(self, message: str = "sign-in required") -> None:
        super().__init__(Fault(service="sign-in", message=message, code="sign_in_required"))


class DatabaseDriverMissing(ServiceError):
    """pyodbc or the ODBC driver manager is not installed (pyodbc is imported lazily)."""
