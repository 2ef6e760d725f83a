"""The application factory: configuration, extensions, blueprints and commands."""

from __future__ import annotations

import logging
from pathlib import Path

from babel import Locale
from flask import Flask, has_request_context, request

from . import config
from .extensions import Database, babel, csrf, limiter, login_manager


def create_app(test_config: dict | None = None) -> Flask:
    root = config.ROOT
    app = Flask(
        "residents_vote",
        instance_path=str(root / "instance"),
        template_folder=str(root / "templates"),
        static_folder=str(root / "static"),
    )
    instance = Path(app.instance_path)
    given_secret = bool(test_config and test_config.get("SECRET_KEY"))
    app.config.update(config.from_environment(instance, with_secret=not given_secret))
    if test_config:
        app.config.update(test_config)
    config.check_production(app.config)
    if app.config.get("PROXY_FIX"):
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = app.config["PROXY_FIX"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)

    from .sessions import SignedCookieSessions

    app.session_interface = SignedCookieSessions()
    Database(app)
    csrf.init_app(app)
    login_manager.init_app(app)
    babel.init_app(app, locale_selector=_select_locale)
    limiter.init_app(app)

    from .blueprints import register_blueprints
    from .cli import register_cli
    from .web import register_web

    register_web(app)
    register_blueprints(app)
    register_cli(app)
    _quiet_token_logs()
    return app


# Parsed once: Flask-Babel would otherwise parse the identifier again on every request
# (a measurable share of a ballot request, see bench/vote_load.py --profile).
_LOCALES = {code: Locale.parse(code) for code in ("zh_CN", "en")}


def _select_locale() -> Locale:
    if not has_request_context():
        return _LOCALES["zh_CN"]  # printed documents and notices default to Chinese
    lang = request.args.get("lang") or request.cookies.get("lang")
    return _LOCALES.get(lang or "", _LOCALES["zh_CN"])


def _quiet_token_logs() -> None:
    """Keep ballot tokens out of the development server's access log."""
    from .web import TokenMaskingFilter

    logging.getLogger("werkzeug").addFilter(TokenMaskingFilter())
