"""The one exception services raise: a Fault a person can act on (see domain.errors.explain)."""

from __future__ import annotations

from dwtui.domain.models import Fault
from dwtui.domain.token_refusals import CONSENT_REQUIRED


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


def certainly_not_sent(fault: Fault) -> bool:
    """Whether a change request that failed with `fault` certainly did not reach the service.

    A sign-in that failed, or a token refused for want of consent, means it was never sent; a 4xx
    answer (throttling included) means the service refused it. A timeout, a cut connection or a 5xx
    may come after the service acted on it: then only the service's own state can tell.
    """
    if fault.service == "sign-in" or fault.code == CONSENT_REQUIRED:
        return True
    status = fault.http_status
    return status is not None and 400 <= status < 500
