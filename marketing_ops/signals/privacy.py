"""Emails and phones are keyed on the way in and never stored, logged or written raw.

A key is ``hmac_sha256(pii_key, normalised value)`` in hex: the same person gets the same key
in every source (CRM, email platform), so journeys join, while the value itself cannot be
read back without the secret.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re

__all__ = [
    "PII_KEY_ENV",
    "DEMO_PII_KEY",
    "MissingPiiKeyError",
    "pii_key",
    "normalise_email",
    "normalise_phone",
    "key_value",
    "email_key",
    "phone_key",
    "mask",
]

PII_KEY_ENV = "MARKETING_OPS_PII_KEY"

# Documented and public on purpose: demo and test data only. Keys made with it protect nothing.
DEMO_PII_KEY = b"marketing-ops-demo-pii-key-not-a-secret"

_GMAIL_DOMAINS = {"gmail.com", "googlemail.com"}
_NOT_DIGIT = re.compile(r"\D")


class MissingPiiKeyError(RuntimeError):
    """No secret to key emails and phones with, and demo mode is off."""


def pii_key(demo: bool = False) -> bytes:
    """The secret for keying PII: ``$MARKETING_OPS_PII_KEY`` (UTF-8), or the demo key.

    Refusing to run without a key (outside demo mode) is deliberate: a silent default would
    make keys that anyone with this source code could reverse by guessing emails."""
    value = os.environ.get(PII_KEY_ENV, "")
    if value:
        return value.encode("utf-8")
    if demo:
        return DEMO_PII_KEY
    raise MissingPiiKeyError(
        f"Set {PII_KEY_ENV} to a secret string (e.g. `openssl rand -hex 32`) before loading "
        "signals: emails and phones are keyed with it. For demo data only, run in demo mode "
        "(MARKETING_OPS_DEMO=1) to use the public demo key."
    )


def normalise_email(value: str, gmail_dots: bool = False) -> str | None:
    """Trimmed, lowercased email, or None when it is not an email at all.

    ``gmail_dots`` also drops dots and ``+tags`` in Gmail local parts (Gmail ignores them), so
    ``J.Doe+news@gmail.com`` and ``jdoe@gmail.com`` key alike; off by default because other
    providers treat dots as significant."""
    email = value.strip().lower()
    local, at, domain = email.rpartition("@")
    if not at or not local or "." not in domain or " " in email:
        return None
    if gmail_dots and domain in _GMAIL_DOMAINS:
        local = local.split("+", 1)[0].replace(".", "")
        domain = "gmail.com"
    return f"{local}@{domain}"


def normalise_phone(value: str) -> str | None:
    """Digits only, with a leading ``+`` when the number had one (or ``00``); None if too short."""
    raw = value.strip()
    international = raw.startswith("+") or raw.startswith("00")
    digits = _NOT_DIGIT.sub("", raw)
    if raw.startswith("00"):
        digits = digits[2:]
    if len(digits) < 6:
        return None
    return f"+{digits}" if international else digits


def key_value(key: bytes, normalised: str) -> str:
    """``hmac_sha256(key, normalised)`` as hex."""
    return hmac.new(key, normalised.encode("utf-8"), hashlib.sha256).hexdigest()


def email_key(key: bytes, value: str) -> str | None:
    """Keyed email, or None when the value is not an email."""
    normalised = normalise_email(value)
    return None if normalised is None else key_value(key, normalised)


def phone_key(key: bytes, value: str) -> str | None:
    """Keyed phone number, or None when the value is not a phone number."""
    normalised = normalise_phone(value)
    return None if normalised is None else key_value(key, normalised)


def mask(value: str) -> str:
    """A stand-in for a PII value in rejects and errors: its length and shape, not its content."""
    shape = "email-like" if "@" in value else "value"
    return f"<masked {shape}, {len(value)} chars>"
