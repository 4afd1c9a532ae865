"""Password hashing with Argon2id, at OWASP's recommended setting: 19 MiB, 2 passes, 1 lane.

argon2-cffi's default (RFC 9106's 64 MiB) held 64 MB per sign-in in a web worker that otherwise
needs about 100; OWASP's Password Storage Cheat Sheet lists 19 MiB / t=2 / p=1 as equally strong
for a web login. Hashes made with other settings still verify (each hash carries its settings)
and are replaced at the next sign-in (`needs_rehash`).
"""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
# Verified against when the e-mail is unknown, so a miss costs as much time as a wrong password.
_DUMMY_HASH = _hasher.hash("campusflow-timing-equaliser")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when `password` matches; always spends one Argon2 verification."""
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)
