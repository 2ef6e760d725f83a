"""The signed-cookie session of Flask, without the per-request set-up cost.

Flask's SecureCookieSessionInterface builds a new itsdangerous serializer on every
request (and every signer derives its HMAC key again), although both depend only on the
secret keys. On the resident's vote path (GET + POST /b/<token>, bench/vote_load.py) that
set-up was a visible share of a request. Here the serializer is kept while the keys stay
the same, and a request without a session cookie opens an empty session without one.
The cookie format, the signature and every Flask session setting are unchanged.
"""

from __future__ import annotations

from flask import Flask, Request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from itsdangerous import BadSignature, TimestampSigner, URLSafeTimedSerializer


class _KeyCachingSigner(TimestampSigner):
    """The timed signer of Flask's sessions, whose derived key is computed once per secret key."""

    _derived: dict[tuple, bytes] = {}

    def derive_key(self, secret_key=None) -> bytes:  # noqa: ANN001 - itsdangerous' signature
        key = secret_key if secret_key is not None else self.secret_keys[-1]
        cache_key = (key, self.salt, self.key_derivation, self.digest_method)
        derived = self._derived.get(cache_key)
        if derived is None:
            derived = super().derive_key(key)
            if len(self._derived) < 64:  # a handful of keys (current + fallbacks)
                self._derived[cache_key] = derived
        return derived


class SignedCookieSessions(SecureCookieSessionInterface):
    """Flask's cookie sessions, the signing serializer built once per set of keys."""

    def __init__(self) -> None:
        self._serializer: tuple[tuple, URLSafeTimedSerializer] | None = None

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        if not app.secret_key:
            return None
        keys = (*(app.config["SECRET_KEY_FALLBACKS"] or ()), app.secret_key)
        cached = self._serializer
        if cached is not None and cached[0] == keys:
            return cached[1]
        serializer = URLSafeTimedSerializer(
            list(keys),
            salt=self.salt,
            serializer=self.serializer,
            signer=_KeyCachingSigner,
            signer_kwargs={
                "key_derivation": self.key_derivation,
                "digest_method": self.digest_method,
            },
        )
        self._serializer = (keys, serializer)
        return serializer

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if not app.secret_key:
            return None
        val = request.cookies.get(self.get_cookie_name(app))
        if not val:  # no cookie: an empty session, no serializer needed
            return self.session_class()
        s = self.get_signing_serializer(app)
        max_age = int(app.permanent_session_lifetime.total_seconds())
        try:
            return self.session_class(s.loads(val, max_age=max_age))
        except BadSignature:
            return self.session_class()

