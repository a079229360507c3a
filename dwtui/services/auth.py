"""Sign-in through MSAL: device code for people, client secret or certificate for applications.

MSAL applications are built lazily because their constructor fetches the OIDC document: building
an Authenticator must cost nothing, so a front end can paint first. MSAL talks through the shared
httpx client, so the profile's CA bundle applies and the Activity pane sees every call. MSAL reports
failures as dicts (and a few as exceptions); both become ServiceError(Fault(service="sign-in")),
except a missing admin consent, which is a fault of the API whose token was refused
(dwtui.domain.token_refusals): no sign-in can fix it, so it must never look like one is needed.
"""

from __future__ import annotations

import math
import ssl
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import httpx
import msal

from dwtui.domain.models import DeviceCodePrompt, Fault, SignedIn
from dwtui.domain.profile import Profile
from dwtui.domain.token_refusals import consent_fault, is_missing_consent
from dwtui.services.activity import ActivityEntry, ActivityLog
from dwtui.services.credentials import MsalHttp, load_certificate_credential
from dwtui.services.errors import ServiceError, SignInRequired
from dwtui.services.http import HttpPolicy
from dwtui.services.secrets import SecretStore

SERVICE = "sign-in"
TOKEN_CACHE = "token-cache"
CLIENT_SECRET = "client-secret"
CERTIFICATE_PASSPHRASE = "certificate-passphrase"

# Errors after which only an interactive sign-in helps (the refresh token is gone or refused).
# A missing consent (AADSTS65001, often invalid_grant with suberror consent_required) is looked for
# first and is not one of them: only an administrator can fix it.
_INTERACTIVE = frozenset({"invalid_grant", "interaction_required", "login_required"})
_PENDING = frozenset({"authorization_pending", "slow_down"})
_POLL_STEP = 0.1  # how often a waiting device-code poll looks at `cancelled()`


def secret_hint(profile: Profile, kind: str) -> str:
    return f"store it in the OS keyring with `dwtui secret set {kind} --profile {profile.name}`"


def store_client_secret(secrets: SecretStore, profile: Profile, value: str) -> None:
    """Keep an application's client secret where sign_in_confidential() looks for it."""
    store_secret(secrets, profile, CLIENT_SECRET, value)


def store_secret(secrets: SecretStore, profile: Profile, kind: str, value: str) -> None:
    # Pasting or piping a secret brings a line ending with it; spaces may belong to a passphrase.
    value = value.strip("\r\n")
    if not value:
        raise ValueError(f"the {kind} is empty")
    secrets.set(profile.secret_key(kind), value)


def _first_line(text: str, limit: int = 300) -> str:
    line = (text.strip().splitlines() or [""])[0].strip()
    return line if len(line) <= limit else line[: limit - 1] + "…"


def fault_from_msal(
    result: Mapping[str, Any], profile: Profile | None = None, scope: str = ""
) -> ServiceError:
    """An MSAL error dict as the ServiceError a person reads.

    With the profile and the scope that was asked for, a missing consent names its API and remedy.
    """
    if profile is not None and scope and is_missing_consent(result):
        return ServiceError(consent_fault(profile, scope, result))
    code = str(result.get("error") or "sign_in_failed")
    description = _first_line(str(result.get("error_description") or "")) or code.replace("_", " ")
    return ServiceError(Fault(service=SERVICE, message=description, code=code))


def _error(message: str, code: str) -> ServiceError:
    return ServiceError(Fault(service=SERVICE, message=message, code=code))


@contextmanager
def msal_guard(what: str) -> Iterator[None]:
    """MSAL lets transport errors and malformed answers escape as exceptions: name them."""
    try:
        yield
    except httpx.TimeoutException as error:
        raise _error(f"{what}: the identity provider did not answer in time", "timeout") from error
    except httpx.HTTPError as error:
        if _is_tls(error):
            message = (
                f"{what}: TLS verification failed ({_first_line(str(error))}); set ca_bundle in the "
                "profile to the CA that signed the identity provider's certificate"
            )
            raise _error(message, "tls") from error
        raise _error(f"{what}: {_first_line(str(error)) or 'network error'}", "network") from error
    except msal.exceptions.MsalServiceError as error:
        raise _error(f"{what}: {_first_line(str(error))}", "identity_provider") from error
    except (ValueError, RuntimeError, KeyError) as error:
        # Bad authority URL, failed OIDC discovery, a token answer that is not JSON.
        message = f"{what}: {_first_line(str(error)) or type(error).__name__}"
        raise _error(message, "identity_provider") from error


def _is_tls(error: BaseException) -> bool:
    current: BaseException | None = error
    seen: set[int] = set()
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, ssl.SSLCertVerificationError):
            return True
        current = current.__cause__ or current.__context__
    return "CERTIFICATE_VERIFY_FAILED" in str(error)


class Authenticator:
    def __init__(
        self,
        profile: Profile,
        http: HttpPolicy,
        secrets: SecretStore,
        *,
        activity: ActivityLog | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.profile = profile
        self._http = http
        self._secrets = secrets
        self._activity = activity if activity is not None else http.activity
        self._clock = clock  # timestamps of Activity entries; MSAL's expiry times are time.time()
        # The cache lock is only ever held briefly, so signed_in() stays cheap on a UI thread
        # while another thread waits on the network inside MSAL. Order: app lock, then cache lock.
        self._app_lock = threading.RLock()
        self._cache_lock = threading.RLock()
        self._cache = msal.SerializableTokenCache()
        self._cache_loaded = False
        self._public: Any = None
        self._confidential: Any = None
        self._flows: dict[str, dict[str, Any]] = {}

    # -- the token cache in the keyring ---------------------------------------------------------

    @property
    def _cache_key(self) -> str:
        return self.profile.secret_key(TOKEN_CACHE)

    def _load_cache(self) -> None:
        with self._cache_lock:
            if self._cache_loaded:
                return
            self._cache_loaded = True
            blob = self._secrets.get(self._cache_key)
            if not blob:
                return
            try:
                self._cache.deserialize(blob)
            except ValueError:
                self._record("The stored token cache was unreadable; a new sign-in is needed")
                self._cache = msal.SerializableTokenCache()

    def _persist(self) -> None:
        with self._cache_lock:
            if self._cache.has_state_changed:
                self._secrets.set(self._cache_key, self._cache.serialize())
                self._cache.has_state_changed = False

    def _accounts(self) -> list[dict[str, Any]]:
        self._load_cache()
        return list(self._cache.search(msal.TokenCache.CredentialType.ACCOUNT))

    # -- MSAL applications, built on first need ---------------------------------------------------

    def _public_app(self) -> Any:
        with self._app_lock:
            if self._public is None:
                self._load_cache()
                with msal_guard("cannot reach the identity provider"):
                    self._public = msal.PublicClientApplication(
                        self.profile.client_id,
                        authority=self.profile.authority,
                        instance_discovery=False,
                        http_client=MsalHttp(self._http),
                        token_cache=self._cache,
                    )
            return self._public

    def _confidential_app(self) -> Any:
        with self._app_lock:
            if self._confidential is None:
                self._load_cache()
                credential = self._credential()
                with msal_guard("cannot reach the identity provider"):
                    self._confidential = msal.ConfidentialClientApplication(
                        self.profile.client_id,
                        client_credential=credential,
                        authority=self.profile.authority,
                        instance_discovery=False,
                        http_client=MsalHttp(self._http),
                        token_cache=self._cache,
                    )
            return self._confidential

    def _credential(self) -> str | dict[str, str]:
        if self.profile.auth == "certificate":
            passphrase = self._secrets.get(self.profile.secret_key(CERTIFICATE_PASSPHRASE))
            return load_certificate_credential(
                self.profile.certificate_path, passphrase, secret_hint(self.profile, CERTIFICATE_PASSPHRASE)
            )
        secret = self._secrets.get(self.profile.secret_key(CLIENT_SECRET))
        if not secret:
            message = f"no client secret is stored for profile '{self.profile.name}'; "
            raise _error(message + secret_hint(self.profile, CLIENT_SECRET), "client_secret_missing")
        return secret

    # -- state ----------------------------------------------------------------------------------

    def signed_in(self) -> SignedIn | None:
        """Who the cache says is signed in; reads the keyring at most once, never the network."""
        with self._cache_lock:
            if self.profile.is_confidential:
                now = time.time()
                tokens = self._cache_search_tokens()
                valid = any(float(t.get("expires_on", 0)) > now for t in tokens)
                return self._app_identity() if valid else None
            accounts = self._accounts()
            return self._user_identity(accounts[0]) if accounts else None

    def _cache_search_tokens(self) -> list[dict[str, Any]]:
        self._load_cache()
        query = {"client_id": self.profile.client_id}
        return list(self._cache.search(msal.TokenCache.CredentialType.ACCESS_TOKEN, query=query))

    def _app_identity(self) -> SignedIn:
        return SignedIn(username=self.profile.client_id, tenant_id=self.profile.tenant_id, kind="app")

    def _user_identity(self, account: Mapping[str, Any]) -> SignedIn:
        username = str(account.get("username") or account.get("preferred_username") or "unknown user")
        tenant = str(account.get("realm") or account.get("tid") or self.profile.tenant_id)
        return SignedIn(username=username, tenant_id=tenant, kind="user")

    def try_silent(self) -> SignedIn | None:
        """Sign in without asking anyone: from the keyring's cache, or with the app's credential."""
        if self.profile.is_confidential:
            try:
                return self.sign_in_confidential()
            except ServiceError as error:
                if error.fault.code == "client_secret_missing":
                    return None
                raise
        if not self._accounts():
            return None  # nothing cached: do not even fetch the OIDC document
        try:
            self._silent_user_token(self.profile.lcs_scope)
        except SignInRequired:
            return None
        identity = self.signed_in()
        if identity is not None:
            self._record(f"Signed in silently as {identity.username} (token cache in the keyring)")
        return identity

    # -- device code ----------------------------------------------------------------------------

    def start_device_flow(self) -> DeviceCodePrompt:
        app = self._public_app()
        with msal_guard("cannot start the device-code sign-in"):
            flow = app.initiate_device_flow(scopes=[self.profile.lcs_scope])
        if "user_code" not in flow:
            raise fault_from_msal(flow, self.profile, self.profile.lcs_scope)
        expires_at = float(flow.get("expires_at") or time.time() + float(flow.get("expires_in", 900)))
        prompt = DeviceCodePrompt(
            verification_uri=str(flow.get("verification_uri") or flow.get("verification_url") or ""),
            user_code=str(flow["user_code"]),
            expires_at=expires_at,
            message=str(flow.get("message") or ""),
        )
        with self._cache_lock:
            self._flows[prompt.user_code] = flow
        self._record(f"Device-code sign-in started: enter {prompt.user_code} at {prompt.verification_uri}")
        return prompt

    def finish_device_flow(self, prompt: DeviceCodePrompt, cancelled: Callable[[], bool]) -> SignedIn:
        """Poll until the person approves, declines, the code expires or `cancelled()` is true."""
        with self._cache_lock:
            flow = self._flows.get(prompt.user_code)
        if flow is None:
            raise _error("this device code is unknown or already used; start again", "no_flow")
        app = self._public_app()
        wait = max(_POLL_STEP, float(flow.get("interval") or 5))
        try:
            while True:
                self._stop_if(cancelled, flow)
                # MSAL's own loop sleeps whole seconds out of our reach; let it poll exactly once.
                flow["interval"] = max(1, math.ceil(wait))
                with msal_guard("device-code sign-in failed"):
                    result = app.acquire_token_by_device_flow(flow, exit_condition=lambda _flow: True)
                    self._persist()
                if "access_token" in result:
                    identity = self._identity_from(result)
                    self._record(f"Signed in as {identity.username} (device code)")
                    return identity
                error = result.get("error")
                if error not in _PENDING:
                    self._record(f"Device-code sign-in ended: {error}")
                    raise fault_from_msal(result, self.profile, self.profile.lcs_scope)
                if error == "slow_down":
                    wait += 5.0
                self._pause(wait, cancelled, flow)
        finally:
            with self._cache_lock:
                self._flows.pop(prompt.user_code, None)

    def _stop_if(self, cancelled: Callable[[], bool], flow: Mapping[str, Any]) -> None:
        if cancelled():
            self._record("Device-code sign-in cancelled")
            raise _error("sign-in was cancelled", "cancelled")
        if float(flow.get("expires_at", 0)) <= time.time():
            self._record("Device-code sign-in ended: expired_token")
            raise _error("the device code expired before sign-in was finished; start again", "expired_token")

    def _pause(self, seconds: float, cancelled: Callable[[], bool], flow: Mapping[str, Any]) -> None:
        deadline = time.monotonic() + seconds
        pause = threading.Event()
        while (left := deadline - time.monotonic()) > 0:
            self._stop_if(cancelled, flow)
            pause.wait(min(_POLL_STEP, left))

    def _identity_from(self, result: Mapping[str, Any]) -> SignedIn:
        claims = result.get("id_token_claims") or {}
        username = claims.get("preferred_username") or claims.get("upn") or claims.get("email")
        if username:
            return SignedIn(str(username), str(claims.get("tid") or self.profile.tenant_id))
        accounts = self._accounts()
        return self._user_identity(accounts[0] if accounts else {})

    # -- applications -----------------------------------------------------------------------------

    def sign_in_confidential(self) -> SignedIn:
        self._app_token(self.profile.lcs_scope)
        identity = self._app_identity()
        how = "certificate" if self.profile.auth == "certificate" else "client secret"
        self._record(f"Signed in as application {identity.username} ({how})")
        return identity

    def _app_token(self, scope: str) -> str:
        if not self.profile.is_confidential:
            raise _error(f"profile '{self.profile.name}' signs in with {self.profile.auth}", "wrong_auth")
        app = self._confidential_app()
        with msal_guard("application sign-in failed"):
            result = app.acquire_token_for_client(scopes=[scope])
            self._persist()
        if result and "access_token" in result:
            return str(result["access_token"])
        if result and result.get("error") == "invalid_client":
            with self._app_lock:
                self._confidential = None  # a corrected secret or certificate is read next time
        raise fault_from_msal(result or {}, self.profile, scope)

    # -- tokens for the service clients -------------------------------------------------------------

    def token_getter(self, scope: str) -> Callable[[], str]:
        def token() -> str:
            if self.profile.is_confidential:
                return self._app_token(scope)
            return self._silent_user_token(scope)

        return token

    def _silent_user_token(self, scope: str) -> str:
        if not self._accounts():
            raise SignInRequired("not signed in: sign in with the device code first")
        app = self._public_app()
        with msal_guard("cannot renew the sign-in"):
            accounts = app.get_accounts()
            # _with_error: acquire_token_silent returns None for every error, and a missing consent
            # would look like an empty cache (MSAL Python, application.py).
            result = app.acquire_token_silent_with_error([scope], account=accounts[0]) if accounts else None
            self._persist()
        if result and "access_token" in result:
            return str(result["access_token"])
        if result and is_missing_consent(result):
            self._record(f"No consent for {scope}: an administrator must grant it (AADSTS65001)")
            raise ServiceError(consent_fault(self.profile, scope, result))
        if result is None or result.get("error") in _INTERACTIVE:
            reason = _first_line(str((result or {}).get("error_description") or ""))
            raise SignInRequired("sign-in expired; sign in again" + (f" ({reason})" if reason else ""))
        raise fault_from_msal(result)

    def sign_out(self) -> None:
        with self._app_lock, self._cache_lock:
            self._secrets.delete(self._cache_key)
            self._cache = msal.SerializableTokenCache()
            self._cache_loaded = True
            self._public = None
            self._confidential = None
            self._flows.clear()
        self._record("Signed out; the token cache was removed from the keyring")

    def _record(self, summary: str) -> None:
        self._activity.record(ActivityEntry(at=self._clock(), kind="auth", summary=summary, service=SERVICE))
