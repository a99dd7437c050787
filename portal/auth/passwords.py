"""Password hashing with Argon2id.

Production uses argon2-cffi's RFC 9106 low-memory profile (about 0.3 s a hash on this
class of machine: deliberately slow). The test suite sets
PORTAL_PASSWORD_HASH_PROFILE=CHEAPEST so hundreds of test logins stay fast; it is
still real Argon2id, only with small parameters.
"""

import os
from functools import cache

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError

_profile = getattr(profiles, os.environ.get("PORTAL_PASSWORD_HASH_PROFILE", "RFC_9106_LOW_MEMORY"))
_hasher = PasswordHasher.from_parameters(_profile)


@cache
def _dummy_hash() -> str:
    """Verified against when the e-mail address is unknown, so a wrong address takes
    as long as a wrong password and the timing tells nobody which accounts exist.
    Made on first use: commands that never check a password do not pay for it."""
    return _hasher.hash("not a real password; equalises timing")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _dummy_hash(), password) and bool(password_hash)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)
