"""Links to an agreement document that expire and open only that agreement."""
from __future__ import annotations

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

SALT = "agreement-document"
DEFAULT_MAX_AGE = 7 * 24 * 3600


def agreement_token(secret: str, reference: str) -> str:
    return URLSafeTimedSerializer(secret, salt=SALT).dumps(reference)


def agreement_url(base_url: str, secret: str, reference: str) -> str:
    return f"{base_url.rstrip('/')}/agreements/{reference}?t={agreement_token(secret, reference)}"


def token_opens(secret: str, token: str, reference: str, max_age: int = DEFAULT_MAX_AGE) -> bool:
    """True only for an unexpired token signed for this very agreement."""
    try:
        return URLSafeTimedSerializer(secret, salt=SALT).loads(token, max_age=max_age) == reference
    except (SignatureExpired, BadSignature):
        return False
