"""The workshop passcode: kept as a salted scrypt hash, never as the passcode itself.

`python -m optimiser passcode` asks for a passcode and prints the line to put in
`.streamlit/secrets.toml` (docs/app.md, "Serving the app to a workshop"):

    [workshop]
    facilitator_passcode_hash = "scrypt$16384$8$1$<salt>$<hash>"

A stored hash is `scrypt$N$r$p$salt$key` (salt and key in URL-safe base64). Checking a
passcode costs about 50 ms of CPU and 16 MB of memory (N = 2^14, r = 8), so guessing is slow;
the comparison takes the same time whatever the passcode. This module does not import
Streamlit.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

MIN_LENGTH = 8
SCHEME = "scrypt"
N, R, P = 2**14, 8, 1  # the cost: OWASP's minimum for scrypt is N=2^17 with r=8 at p=1 ...
KEY_BYTES = 32
# ... but each sign-in runs in the app's server process, shared with the solves; 2^14 keeps a
# check near 50 ms. The passcode is for one workshop room, changed for each workshop.


class BadHash(ValueError):
    """A stored hash that is not one this module wrote (a typing slip in secrets.toml)."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def problem(passcode: str) -> str:
    """Why a passcode is too weak to use, or "" when it will do."""
    if len(passcode) < MIN_LENGTH:
        return f"A passcode needs at least {MIN_LENGTH} characters."
    if passcode.strip() != passcode:
        return "A passcode cannot start or end with a space."
    return ""


def hash_passcode(passcode: str, salt: bytes | None = None) -> str:
    """The stored form of a passcode (a new random salt each time unless one is given)."""
    salt = secrets.token_bytes(16) if salt is None else salt
    key = hashlib.scrypt(passcode.encode("utf-8"), salt=salt, n=N, r=R, p=P, dklen=KEY_BYTES)
    return f"{SCHEME}${N}${R}${P}${_b64(salt)}${_b64(key)}"


def check_passcode(passcode: str, stored: str) -> bool:
    """Whether `passcode` is the one `stored` was made from; BadHash if `stored` is malformed."""
    try:
        scheme, n, r, p, salt, key = str(stored).strip().split("$")
        n, r, p = int(n), int(r), int(p)
        salt_bytes, key_bytes = _unb64(salt), _unb64(key)
    except ValueError as err:
        raise BadHash("The stored passcode hash is not in the form scrypt$N$r$p$salt$key: make "
                      "it again with `python -m optimiser passcode`.") from err
    if scheme != SCHEME or not (2 <= n <= 2**20 and 1 <= r <= 32 and 1 <= p <= 16) \
            or len(key_bytes) < 16 or len(salt_bytes) < 8:
        raise BadHash("The stored passcode hash has settings this app does not accept: make it "
                      "again with `python -m optimiser passcode`.")
    given = hashlib.scrypt(str(passcode).encode("utf-8"), salt=salt_bytes, n=n, r=r, p=p,
                           dklen=len(key_bytes), maxmem=256 * r * n + 1024 * 1024)
    return hmac.compare_digest(given, key_bytes)


def secrets_lines(role: str, stored: str) -> str:
    """What to paste into .streamlit/secrets.toml for this role's passcode."""
    return f'[workshop]\n{role}_passcode_hash = "{stored}"\n'
