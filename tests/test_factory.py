"""The application factory and configuration (CONTRACT.md "Configuration")."""

from __future__ import annotations

import stat

import pytest

from residents_vote import config, create_app
from tests.helpers import login, make_user

STRONG = "f" * 16 + "0123456789abcdef0123"
ENV_NAMES = ("DATABASE_URL", "SECRET_KEY", "BASE_URL", "TIMEZONE", "RATELIMIT_ENABLED")


@pytest.fixture
def install(tmp_path, monkeypatch):
    """A throwaway install root: instance/ lives under tmp_path, not in the repository."""
    root = tmp_path / "install"
    root.mkdir()
    monkeypatch.setattr(config, "ROOT", root)
    for name in ENV_NAMES:
        monkeypatch.delenv(name, raising=False)
    return root


def dispose(app) -> None:
    app.extensions["rv_db"].engine.dispose()


def test_factory_honours_test_config(install, tmp_path):
    url = f"sqlite:///{tmp_path / 'given.sqlite3'}"
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": STRONG,
            "DATABASE_URL": url,
            "BASE_URL": "http://given.example",
            "TIMEZONE": "Asia/Urumqi",
        }
    )
    try:
        assert app.testing
        assert app.config["SECRET_KEY"] == STRONG
        assert app.config["DATABASE_URL"] == url
        assert app.config["BASE_URL"] == "http://given.example"
        assert app.config["TIMEZONE"] == "Asia/Urumqi"
        assert str(app.extensions["rv_db"].engine.url) == url
    finally:
        dispose(app)


def test_factory_without_test_config_is_not_testing(install, monkeypatch):
    monkeypatch.setenv("SECRET_KEY", STRONG)
    app = create_app()
    try:
        assert not app.testing
        assert app.config["SECRET_KEY"] == STRONG
    finally:
        dispose(app)


def test_environment_is_read(install, tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'from-env.sqlite3'}"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("BASE_URL", "https://vote.example.org/")
    monkeypatch.setenv("TIMEZONE", "Asia/Hong_Kong")
    monkeypatch.setenv("RATELIMIT_ENABLED", "0")
    app = create_app({"TESTING": True})
    try:
        assert app.config["DATABASE_URL"] == url
        assert str(app.extensions["rv_db"].engine.url) == url
        assert app.config["BASE_URL"] == "https://vote.example.org"  # trailing slash dropped
        assert app.config["TIMEZONE"] == "Asia/Hong_Kong"
        assert app.config["RATELIMIT_ENABLED"] is False
    finally:
        dispose(app)


def test_environment_defaults(install):
    app = create_app({"TESTING": True})
    try:
        instance = install / "instance"
        assert app.instance_path == str(instance)
        assert app.config["DATABASE_URL"] == f"sqlite:///{instance / 'residents_vote.sqlite3'}"
        assert app.config["BASE_URL"] == "http://127.0.0.1:5000"
        assert app.config["TIMEZONE"] == "Asia/Shanghai"
        assert app.config["RATELIMIT_STORAGE_URI"] == "memory://"
        assert app.config["RATELIMIT_ENABLED"] is True
    finally:
        dispose(app)


def test_secret_key_generated_once_into_instance(install):
    key_file = install / "instance" / "secret_key"
    assert not key_file.exists()
    first = create_app({"TESTING": True})
    dispose(first)
    assert key_file.is_file()
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    key = key_file.read_text().strip()
    assert len(key) >= 32
    assert first.config["SECRET_KEY"] == key
    second = create_app({"TESTING": True})
    dispose(second)
    assert second.config["SECRET_KEY"] == key
    assert key_file.read_text().strip() == key


def test_secret_key_differs_between_installs(tmp_path):
    a = config.from_environment(tmp_path / "a")["SECRET_KEY"]
    b = config.from_environment(tmp_path / "b")["SECRET_KEY"]
    assert a and b and a != b
    assert config.from_environment(tmp_path / "a")["SECRET_KEY"] == a


def test_secret_key_from_environment_wins(install, monkeypatch):
    monkeypatch.setenv("SECRET_KEY", STRONG)
    app = create_app({"TESTING": True})
    dispose(app)
    assert app.config["SECRET_KEY"] == STRONG
    assert not (install / "instance" / "secret_key").exists()


def test_secret_key_given_in_test_config_writes_no_file(install):
    app = create_app({"TESTING": True, "SECRET_KEY": STRONG})
    dispose(app)
    assert app.config["SECRET_KEY"] == STRONG
    assert not (install / "instance" / "secret_key").exists()


@pytest.mark.parametrize("weak", ["dev", "DEV", "changeme", "short-key"])
def test_weak_secret_key_refuses_to_start(install, monkeypatch, weak):
    monkeypatch.setenv("SECRET_KEY", weak)
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app()


def test_weak_secret_key_in_config_refuses_to_start(install):
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app({"SECRET_KEY": "dev"})


def test_weak_secret_key_allowed_when_testing(install, monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "dev")
    app = create_app({"TESTING": True})
    dispose(app)
    assert app.config["SECRET_KEY"] == "dev"


def test_health_and_security_headers(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"ok": True}
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]


def test_staff_pages_are_not_cached(client, app):
    make_user(app, "boss", "admin")
    assert login(client, "boss").status_code == 303
    response = client.get("/staff/")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
