"""Configuration read from the environment (CONTRACT.md "Configuration")."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _secret_key(instance: Path) -> str:
    """Generate a key once per install, so two installs never share one."""
    path = instance / "secret_key"
    if path.exists():
        return path.read_text().strip()
    instance.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(key)
    return key


def _count(text: str | None) -> int:
    text = (text or "").strip()
    if not text:
        return 0
    if not text.isdigit():
        raise RuntimeError(f"PROXY_FIX must be a number of proxies (0, 1, …), not {text!r}")
    return int(text)


WEAK_SECRETS = frozenset({"dev", "secret", "changeme", "change-me", "test", "development"})


def from_environment(instance: Path, *, with_secret: bool = True) -> dict:
    env = os.environ
    default_db = f"sqlite:///{instance / 'residents_vote.sqlite3'}"
    secret = (env.get("SECRET_KEY") or _secret_key(instance)) if with_secret else ""
    return {
        "DATABASE_URL": env.get("DATABASE_URL") or default_db,
        "SECRET_KEY": secret,
        "BASE_URL": (env.get("BASE_URL") or "http://127.0.0.1:5000").rstrip("/"),
        "TIMEZONE": env.get("TIMEZONE") or "Asia/Shanghai",
        "RATELIMIT_STORAGE_URI": env.get("RATELIMIT_STORAGE_URI") or "memory://",
        "RATELIMIT_ENABLED": env.get("RATELIMIT_ENABLED", "1") not in ("0", "false", "no"),
        "HOLIDAYS": [d for d in (env.get("HOLIDAYS") or "").split(",") if d.strip()],
        "WORKDAYS": [d for d in (env.get("WORKDAYS") or "").split(",") if d.strip()],
        "PASSWORD_HASH": env.get("PASSWORD_HASH") or "scrypt",
        "MAX_CONTENT_LENGTH": 20 * 1024 * 1024,
        # The scan upload only (README "Paper ballots from the scanner"): a 100-page
        # 300 dpi batch from a sheet-feeding scanner is 50-100 MB.
        "SCAN_UPLOAD_MAX_MB": int(env.get("SCAN_UPLOAD_MAX_MB") or 200),
        "SCAN_BATCH_MAX_PAGES": int(env.get("SCAN_BATCH_MAX_PAGES") or 300),
        # Batches up to this many pages are read in the request; larger ones in the
        # background while the batch page refreshes itself.
        "SCAN_READ_AT_ONCE_PAGES": 10,
        "WTF_CSRF_TIME_LIMIT": None,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": env.get("SESSION_COOKIE_SECURE", "0") == "1",
        # Number of reverse proxies in front of the app whose X-Forwarded-* headers are
        # believed (0: none, the app is exposed directly). See docs/deploy.md.
        "PROXY_FIX": _count(env.get("PROXY_FIX")),
        # Text messages (CONTRACT.md "Text messages"; residents_vote/messages)
        "SMS_BACKEND": (env.get("SMS_BACKEND") or "outbox").strip(),
        "SMS_ACCESS_KEY_ID": env.get("SMS_ACCESS_KEY_ID") or "",
        "SMS_ACCESS_KEY_SECRET": env.get("SMS_ACCESS_KEY_SECRET") or "",
        "SMS_SIGN_NAME": env.get("SMS_SIGN_NAME") or "",
        "SMS_TEMPLATE_BALLOT_LINK": env.get("SMS_TEMPLATE_BALLOT_LINK") or "",
        "SMS_TEMPLATE_REMINDER": env.get("SMS_TEMPLATE_REMINDER") or "",
        "SMS_TEMPLATE_CODE": env.get("SMS_TEMPLATE_CODE") or "",
        "SMS_ENDPOINT": env.get("SMS_ENDPOINT") or "",
        "SMS_APP_ID": env.get("SMS_APP_ID") or "",  # tencent: the SmsSdkAppId
        "SMS_REGION": env.get("SMS_REGION") or "",
        "BABEL_DEFAULT_LOCALE": "zh_CN",
        "BABEL_TRANSLATION_DIRECTORIES": str(ROOT / "translations"),
        "LANGUAGES": ["zh_CN", "en"],
    }


def _weak(key: str) -> bool:
    """Too short, a known placeholder, or too repetitive to be random (`aaaa…`, `abab…`,
    `secretsecret…`): a generated key has well over 8 distinct characters."""
    stripped = key.strip()
    if len(stripped) < 16 or len(set(stripped)) < 8:
        return True
    lowered = stripped.lower()
    return lowered in WEAK_SECRETS or any(
        lowered == word * (len(lowered) // len(word)) for word in WEAK_SECRETS
    )


def check_production(cfg: dict) -> None:
    """Refuse to serve with a guessable signing key: sessions and CSRF tokens would be forgeable."""
    if cfg.get("TESTING"):
        return
    key = cfg.get("SECRET_KEY") or ""
    if _weak(key):
        raise RuntimeError(
            "SECRET_KEY is missing or too weak: unset it to use the generated "
            "instance/secret_key, or give at least 16 random characters"
        )
