"""The Rencontres sociales debate forum: ``create_app`` builds the Flask application."""

from __future__ import annotations

import hashlib
import os

from flask import Flask, abort, current_app, g, has_request_context, request, session
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from sqlalchemy import event, text
from sqlalchemy.exc import OperationalError
from werkzeug.middleware.proxy_fix import ProxyFix

from forum.config import load_config
from forum.db import IdConverter, configure_postgresql, configure_sqlite, end_reads
from forum.errors import error_response, register_error_handlers
from forum.extensions import babel, csrf, db, limiter, login_manager, migrate

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
        "form-action 'self'",
    ]
)


def create_app(config: dict | None = None) -> Flask:
    """Build the application; ``config`` overrides the environment (tests use it)."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    app = Flask(
        __name__,
        instance_path=os.environ.get("FORUM_INSTANCE_PATH") or os.path.join(root, "instance"),
        template_folder=os.path.join(root, "templates"),
        static_folder=os.path.join(root, "static"),
    )
    app.config.update(load_config(app.instance_path, config))
    app.url_map.converters["int"] = IdConverter
    os.makedirs(app.instance_path, exist_ok=True)

    if app.config["FORUM_PROXY_COUNT"] > 0:
        # Behind N trusted proxies: the client address is the N-th from the right of
        # X-Forwarded-For; without proxies the header is ignored (anyone can send it).
        count = app.config["FORUM_PROXY_COUNT"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count, x_host=count)
    _init_extensions(app, root)
    _register_blueprints(app)
    register_error_handlers(app)
    _register_hooks(app)
    _init_operations(app, root)
    _version_static_files(app)
    if app.config["FORUM_QUERY_COUNT_HEADER"]:
        _count_queries(app)

    from forum.cli import register_cli
    from forum.templating import register_templating

    register_templating(app)
    register_cli(app)
    return app


def _select_locale() -> str:
    languages = current_app.config["FORUM_LANGUAGES"]
    if not has_request_context():  # CLI commands, background work
        return languages[0]
    try:
        locale = getattr(current_user, "locale", None)
    except OperationalError:  # the database is down or locked: still answer, in French
        db.session.rollback()
        locale = None
    if locale in languages:
        return locale
    return request.accept_languages.best_match(languages) or languages[0]


def _init_extensions(app: Flask, root: str) -> None:
    db.init_app(app)
    migrate.init_app(app, db, directory=os.path.join(root, "migrations"))
    csrf.init_app(app)
    babel.init_app(
        app,
        locale_selector=_select_locale,
        default_translation_directories=os.path.join(root, "translations"),
    )
    app.config["RATELIMIT_ENABLED"] = app.config["FORUM_RATE_LIMITS"] != "off"
    app.config["RATELIMIT_STORAGE_URI"] = app.config["FORUM_REDIS_URL"] or "memory://"
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", True)
    # Redis unreachable: each worker counts in its own memory until it answers again.
    app.config.setdefault("RATELIMIT_IN_MEMORY_FALLBACK_ENABLED", True)
    if app.config["FORUM_REDIS_URL"]:
        app.config.setdefault(
            "RATELIMIT_STORAGE_OPTIONS", {"socket_timeout": 0.5, "socket_connect_timeout": 0.5}
        )
    limiter.init_app(app)

    from forum.accounts.models import AnonymousUser

    login_manager.init_app(app)
    login_manager.anonymous_user = AnonymousUser
    login_manager.login_view = "accounts.login"
    login_manager.login_message = _l("Connectez-vous pour continuer.")
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"

    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            configure_sqlite(db.engine, app.config["FORUM_SQLITE_BUSY_TIMEOUT_MS"])
        elif db.engine.dialect.name == "postgresql":
            configure_postgresql(db.engine)
            app.teardown_request(end_reads)


def _register_blueprints(app: Flask) -> None:
    from forum.accounts.views import bp as accounts
    from forum.admin.views import bp as admin
    from forum.debate.views import bp as debate
    from forum.directory.contact_views import bp as contacts
    from forum.directory.views import bp as directory
    from forum.discussions.views import bp as discussions
    from forum.feeds.views import bp as feeds
    from forum.messages.views import bp as messages
    from forum.moderation.views import bp as moderation
    from forum.news.views import bp as news
    from forum.notifications.views import bp as notifications
    from forum.privacy.views import bp as privacy
    from forum.search.views import bp as search
    from forum.seminars.views import bp as seminars

    for blueprint in (
        accounts,
        discussions,
        seminars,
        notifications,
        admin,
        moderation,
        search,
        feeds,
        news,
        privacy,
        messages,
        directory,
        contacts,
        debate,
    ):
        app.register_blueprint(blueprint)

    @app.get("/healthz")
    def healthz():
        """200 when the app and its database answer, 503 otherwise."""
        try:
            db.session.execute(text("SELECT 1"))
        except Exception:
            db.session.rollback()
            return {"status": "unavailable"}, 503
        return {"status": "ok"}


def _register_hooks(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def _csrf_error(_exc):
        return error_response(
            400,
            str(
                _l(
                    "Le formulaire a expiré ou n'a pas été envoyé depuis cette page. "
                    "Rechargez la page, puis envoyez-le de nouveau."
                )
            ),
        )

    @app.before_request
    def _refuse_nul_in_url():
        # PostgreSQL refuses NUL in text: a path carrying one names nothing here.
        # (Query arguments and form fields are checked where they are read.)
        if "\x00" in request.path:
            abort(404)

    @app.after_request
    def _security_headers(response):
        headers = response.headers
        headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "same-origin")
        headers.setdefault("X-Frame-Options", "DENY")
        # The session says whether someone is logged in, without asking the database.
        if "_user_id" in session and request.endpoint != "static":
            headers["Cache-Control"] = "no-store"
            headers["Vary"] = "Cookie"
        return response


def _init_operations(app: Flask, root: str) -> None:
    """Request ids, logs and metrics first, then the anonymous page cache."""
    from forum.observability import init_observability
    from forum.pages.cache import init_page_cache

    init_observability(app)
    init_page_cache(app, root)


#: How long a browser keeps a versioned static file (its URL changes with its content).
STATIC_MAX_AGE = 365 * 24 * 3600


def _version_static_files(app: Flask) -> None:
    """``url_for('static', …)`` adds ``?v=`` + a digest of the file, served with a long max-age.

    A returning reader's browser then asks for the page alone; a new stylesheet has a
    new URL, so nobody keeps a stale one.
    """
    digests: dict[str, str] = {}

    @app.url_defaults
    def _add_version(endpoint, values):
        if endpoint != "static" or "v" in values or "filename" not in values:
            return
        filename = values["filename"]
        if filename not in digests or app.debug:
            try:
                with open(os.path.join(app.static_folder, filename), "rb") as file:
                    digests[filename] = hashlib.sha256(file.read()).hexdigest()[:12]
            except OSError:
                digests[filename] = ""
        if digests[filename]:
            values["v"] = digests[filename]

    def max_age(filename: str | None) -> int | None:
        return STATIC_MAX_AGE if request.args.get("v") else None

    app.get_send_file_max_age = max_age


def _count_queries(app: Flask) -> None:
    """Add ``X-Query-Count`` (SQL statements run by the request) to every response.

    For the benchmark's query census only (``FORUM_QUERY_COUNT_HEADER=1``).
    """
    with app.app_context():
        engine = db.engine

    @event.listens_for(engine, "before_cursor_execute")
    def _count(_conn, _cursor, statement, *_args):
        verb = statement.lstrip().split(None, 1)[0].upper()
        if has_request_context() and verb in {"SELECT", "INSERT", "UPDATE", "DELETE", "WITH"}:
            g.forum_query_count = g.get("forum_query_count", 0) + 1

    @app.after_request
    def _query_count_header(response):
        response.headers["X-Query-Count"] = str(g.get("forum_query_count", 0))
        return response
