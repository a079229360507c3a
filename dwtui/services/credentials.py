"""Credentials MSAL is handed: a certificate from one PEM file, and our httpx client in MSAL's shape."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from dwtui.domain.models import Fault
from dwtui.services.errors import ServiceError
from dwtui.services.files import MIB, FileProblem, read_limited

if TYPE_CHECKING:
    from dwtui.services.http import HttpPolicy

# A PEM key and its chain are a few KiB; `--certificate /dev/zero` must not be read without end.
CERTIFICATE_LIMIT = MIB
_PEM_KEY = re.compile(rb"-----BEGIN ([A-Z ]*)PRIVATE KEY-----.+?-----END \1PRIVATE KEY-----", re.DOTALL)


def load_certificate_credential(path_text: str, passphrase: str | None, hint: str) -> dict[str, str]:
    """MSAL's certificate credential from one PEM file holding the private key and its certificate.

    The key is handed to MSAL decrypted, in memory only, so MSAL's passphrase support (which has
    varied between releases) does not matter.
    """
    path = Path(path_text).expanduser()

    def fail(problem: str) -> ServiceError:
        return ServiceError(
            Fault(service="sign-in", message=f"certificate_path {path}: {problem}", code="certificate")
        )

    try:
        data = read_limited(path, limit=CERTIFICATE_LIMIT)
    except FileProblem as error:
        raise fail(f"{error.problem}; fix the path in the profile") from error
    except OSError as error:
        raise fail(f"cannot read it ({error.strerror or error}); fix the path in the profile") from error
    block = _PEM_KEY.search(data)
    if block is None:
        raise fail("no PEM private key in it; the file must hold the private key and the certificate")
    try:
        key = serialization.load_pem_private_key(
            block.group(0), password=passphrase.encode("utf-8") if passphrase else None
        )
    except TypeError as error:  # encrypted without a passphrase, or a passphrase for a plain key
        if passphrase:
            raise fail("the private key is not encrypted but a passphrase is stored; delete it") from error
        raise fail(f"the private key is encrypted; {hint}") from error
    except ValueError as error:
        raise fail("the stored passphrase does not open the private key, or the key is damaged") from error
    if not isinstance(key, rsa.RSAPrivateKey):
        raise fail("Microsoft Entra ID accepts only RSA certificates")
    try:
        certificates = x509.load_pem_x509_certificates(data)
    except ValueError as error:
        raise fail("no PEM certificate in it; append the certificate to the private key") from error
    public = key.public_key().public_numbers()
    matching = [c for c in certificates if _public_numbers(c) == public]
    if not matching:
        raise fail("none of its certificates belongs to its private key")
    plain_key = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return {
        "private_key": plain_key.decode("ascii"),
        "thumbprint": matching[0].fingerprint(hashes.SHA1()).hex().upper(),  # Entra's x5t is SHA-1
    }


def _public_numbers(certificate: x509.Certificate) -> rsa.RSAPublicNumbers | None:
    key = certificate.public_key()
    return key.public_numbers() if isinstance(key, rsa.RSAPublicKey) else None


class MsalHttp:
    """MSAL's http_client interface over our HTTP policy's client.

    MSAL hands the certificate's client assertion over as bytes, which requests encodes as text
    but httpx sends as "b'eyJ...'", so the identity provider would refuse every certificate sign-in.

    A 429 from the identity provider is waited out here, as its Retry-After asks and within the
    policy's cap, then sent again; beyond that it is a sign-in fault that says it is throttling,
    never MSAL's bare "sign in failed". Microsoft Entra ID answers too many token requests with
    HTTP 429 and Retry-After, and asks clients to honour it:
    https://learn.microsoft.com/entra/msal/dotnet/advanced/exceptions/retry-policy
    """

    SERVICE = "sign-in"
    WHY = "throttled by the identity provider"

    def __init__(self, http: HttpPolicy) -> None:
        self._http = http

    def post(self, url: str, params: Any = None, data: Any = None, headers: Any = None, **kw: Any) -> Any:
        if isinstance(data, Mapping):
            data = {k: v.decode("utf-8") if isinstance(v, bytes) else v for k, v in data.items()}
        return self._answer(
            lambda: self._http.client.post(url, params=params, data=data, headers=headers, **kw)
        )

    def get(self, url: str, params: Any = None, headers: Any = None, **kw: Any) -> Any:
        return self._answer(lambda: self._http.client.get(url, params=params, headers=headers, **kw))

    def _answer(self, send: Callable[[], httpx.Response]) -> httpx.Response:
        attempt = 0
        while True:
            attempt += 1
            response = send()
            if response.status_code != 429:
                return response
            # A refused token request was not processed, so sending it again is safe.
            self._http.wait_out_throttling(self.SERVICE, response, attempt, self.WHY)

    def close(self) -> None:
        """The HttpPolicy owns the client; MSAL must not close it."""
