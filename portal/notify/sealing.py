"""The custodians' signing secrets: made by the portal, shown once, kept sealed.

The portal must sign with the secret itself (HMAC), so it cannot keep only a hash of
it, as it does for passwords and API tokens. It keeps it encrypted instead (Fernet,
with a key derived from SECRET_KEY by HKDF): a copy of the database alone reveals no
secret. Changing SECRET_KEY leaves the sealed secrets unreadable; the deliveries then
fail with a message saying to rotate them."""

import base64
import secrets

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

PREFIX = "whsec_"  # the Standard Webhooks form: whsec_ + base64 of the key bytes
SECRET_BYTES = 32


class SecretUnreadable(Exception):
    """The sealed secret was sealed under another SECRET_KEY."""


def new_secret() -> str:
    return PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def _fernet(secret_key: str) -> Fernet:
    derived = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"portal custodian webhook secret"
    ).derive(secret_key.encode())
    return Fernet(base64.urlsafe_b64encode(derived))


def seal(secret: str, secret_key: str) -> str:
    return _fernet(secret_key).encrypt(secret.encode()).decode()


def unseal(sealed: str, secret_key: str) -> str:
    try:
        return _fernet(secret_key).decrypt(sealed.encode()).decode()
    except InvalidToken:
        raise SecretUnreadable(
            "the endpoint's secret cannot be read (SECRET_KEY changed?): rotate it"
        ) from None
