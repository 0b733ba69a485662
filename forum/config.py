"""Settings read from ``FORUM_*`` environment variables, with laptop defaults.

``load_config(instance_path, overrides)`` builds the dict that ``create_app``
hands to Flask. Nothing here touches the database or the network.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

#: Secret keys shorter than this are refused in production.
MIN_SECRET_KEY_LENGTH = 32


class ConfigError(RuntimeError):
    """The environment does not describe a runnable forum."""


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(f"FORUM_{name}")
    return value if value not in (None, "") else default


def _env_bool(name: str, default: bool = False) -> bool:
    value = _env(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _env_int(name: str, default: int) -> int:
    value = _env(name)
    if value is None:
        return default
    try:
        return int(value)
    except ValueError as exc:
        raise ConfigError(f"FORUM_{name} must be a whole number, not {value!r}") from exc


def _env_seconds(name: str, default: float) -> float:
    value = _env(name)
    if value is None:
        return default
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1.0
    if not seconds > 0:
        raise ConfigError(f"FORUM_{name} must be a positive number of seconds, not {value!r}")
    return seconds


def _secret_key(instance_path: Path, env: str) -> str:
    key = _env("SECRET_KEY")
    if env == "production":
        if not key or len(key) < MIN_SECRET_KEY_LENGTH:
            raise ConfigError(
                "FORUM_SECRET_KEY must be set to a random string of at least "
                f"{MIN_SECRET_KEY_LENGTH} characters in production "
                '(python -c "import secrets; print(secrets.token_urlsafe(48))")'
            )
        return key
    if key:
        return key
    # Development: generate one key once and keep it, so sessions survive restarts.
    path = instance_path / "secret_key"
    if path.exists():
        return path.read_text().strip()
    instance_path.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    path.write_text(key)
    path.chmod(0o600)
    return key


def load_config(instance_path: str | Path, overrides: dict | None = None) -> dict:
    """Return the Flask configuration for this environment.

    ``overrides`` (used by tests) win over the environment.
    """
    overrides = dict(overrides or {})
    instance_path = Path(instance_path)
    env = overrides.get("FORUM_ENV") or _env("ENV", "development")
    if env not in {"development", "production", "testing"}:
        raise ConfigError(f"FORUM_ENV must be development, production or testing, not {env!r}")

    database_url = _env("DATABASE_URL") or f"sqlite:///{instance_path / 'forum.sqlite3'}"
    config = {
        "FORUM_ENV": env,
        "SECRET_KEY": overrides.get("SECRET_KEY") or _secret_key(instance_path, env),
        "SQLALCHEMY_DATABASE_URI": database_url,
        # No pre-ping: SQLite's connections are files; PostgreSQL's are checked without a
        # round trip (forum.db.configure_postgresql).
        "SQLALCHEMY_ENGINE_OPTIONS": {},
        "MAX_CONTENT_LENGTH": _env_int("MAX_CONTENT_LENGTH", 1024 * 1024),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": _env_bool("SECURE_COOKIES"),
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": _env_bool("SECURE_COOKIES"),
        "PREFERRED_URL_SCHEME": "https" if _env_bool("SECURE_COOKIES") else "http",
        "SERVER_NAME": _env("SERVER_NAME"),
        "WTF_CSRF_TIME_LIMIT": None,
        "BABEL_DEFAULT_LOCALE": "fr",
        "BABEL_DEFAULT_TIMEZONE": "Europe/Paris",
        "FORUM_LANGUAGES": ("fr", "en"),
        "FORUM_SITE_NAME": _env("SITE_NAME", "Rencontres sociales"),
        "FORUM_THREADS_PER_PAGE": _env_int("THREADS_PER_PAGE", 30),
        "FORUM_POSTS_PER_PAGE": _env_int("POSTS_PER_PAGE", 500),
        "FORUM_SEARCH_CANDIDATES": _env_int("SEARCH_CANDIDATES", 1000),
        "FORUM_MAX_DEPTH": _env_int("MAX_DEPTH", 6),
        "FORUM_SQLITE_BUSY_TIMEOUT_MS": _env_int("SQLITE_BUSY_TIMEOUT_MS", 5000),
        "FORUM_RATE_LIMITS": _env("RATE_LIMITS", "default"),
        "FORUM_REDIS_URL": _env("REDIS_URL"),
        "FORUM_PROXY_COUNT": _env_int("PROXY_COUNT", 0),
        "FORUM_PASSWORD_HASH": _env("PASSWORD_HASH", "scrypt"),
        # Moderation: posts hidden after this many distinct reporters (0: never by reports).
        "FORUM_REPORT_HIDE_THRESHOLD": _env_int("REPORT_HIDE_THRESHOLD", 3),
        # The first N posts of a new account wait for approval (0: off), in these themes
        # (comma-separated slugs; empty: every theme).
        "FORUM_PREMODERATION_POSTS": _env_int("PREMODERATION_POSTS", 0),
        "FORUM_PREMODERATION_THEMES": tuple(
            slug.strip() for slug in (_env("PREMODERATION_THEMES") or "").split(",") if slug.strip()
        ),
        # E-mail: with no server, mails are written to the log (laptop default).
        "FORUM_MAIL_SERVER": _env("MAIL_SERVER"),
        "FORUM_MAIL_PORT": _env_int("MAIL_PORT", 25),
        "FORUM_MAIL_USE_TLS": _env_bool("MAIL_USE_TLS"),
        "FORUM_MAIL_USERNAME": _env("MAIL_USERNAME"),
        "FORUM_MAIL_PASSWORD": _env("MAIL_PASSWORD"),
        "FORUM_MAIL_FROM": _env("MAIL_FROM", "Rencontres sociales <ne-pas-repondre@localhost>"),
        "FORUM_MAIL_TIMEOUT": _env_int("MAIL_TIMEOUT", 10),
        #: Mails sent right after the request that wrote them; the rest wait for send-mail.
        "FORUM_MAIL_INLINE_LIMIT": _env_int("MAIL_INLINE_LIMIT", 20),
        #: Links in mails (CLI commands have no request to take the host from).
        "FORUM_BASE_URL": _env("BASE_URL", "http://127.0.0.1:5000"),
        #: Authors and repliers follow their threads automatically.
        "FORUM_AUTO_WATCH": _env_bool("AUTO_WATCH", True),
        #: How long a password-reset or e-mail confirmation link stays valid.
        "FORUM_TOKEN_MAX_AGE": _env_int("TOKEN_MAX_AGE", 3600),
        # Background work (flask forum worker): a claimed mail or job is someone else's
        # for this many seconds (then taken again: its worker died); an idle worker looks
        # for work this often (seconds, may be a fraction).
        "FORUM_WORKER_LEASE": _env_int("WORKER_LEASE", 300),
        "FORUM_WORKER_POLL": _env_seconds("WORKER_POLL", 1.0),
        "FORUM_WORKER_BATCH": _env_int("WORKER_BATCH", 20),
        #: The worker sends the daily digest at this hour, Europe/Paris (-1: never; cron).
        "FORUM_DIGEST_HOUR": _env_int("DIGEST_HOUR", 7),
        #: Sent mails and finished jobs are purged after this many days.
        "FORUM_OUTBOX_KEEP_DAYS": _env_int("OUTBOX_KEEP_DAYS", 30),
        #: Anonymous pages kept this many seconds at most (0: no page cache).
        "FORUM_PAGE_CACHE_SECONDS": _env_int("PAGE_CACHE_SECONDS", 60),
        #: Without Redis, the pages each worker keeps in memory, in MB at most.
        "FORUM_PAGE_CACHE_MEMORY_MB": _env_int("PAGE_CACHE_MEMORY_MB", 16),
        #: One log line per request: "text" or "json".
        "FORUM_LOG_FORMAT": _env("LOG_FORMAT", "text"),
        #: /metrics in Prometheus format (0: the URL answers 404).
        "FORUM_METRICS": _env_bool("METRICS"),
        # Personal data: who answers for it (shown on /privacy), and how long traces are kept.
        "FORUM_DATA_CONTROLLER": _env("DATA_CONTROLLER", "Association Rencontres sociales"),
        "FORUM_DATA_CONTACT": _env("DATA_CONTACT", "donnees-personnelles@localhost"),
        "FORUM_IP_RETENTION_DAYS": _env_int("IP_RETENTION_DAYS", 30),
        "FORUM_NOTIFICATION_RETENTION_DAYS": _env_int("NOTIFICATION_RETENTION_DAYS", 180),
        "FORUM_READ_POSITION_RETENTION_DAYS": _env_int("READ_POSITION_RETENTION_DAYS", 365),
        # Private conversations: limits under FORUM_RATE_LIMITS=default (0: no limit).
        "FORUM_MESSAGES_NEW_ACCOUNT_CONVERSATIONS": _env_int(
            "MESSAGES_NEW_ACCOUNT_CONVERSATIONS", 3
        ),
        "FORUM_MESSAGES_CONVERSATIONS_PER_DAY": _env_int("MESSAGES_CONVERSATIONS_PER_DAY", 20),
        "FORUM_MESSAGES_MIN_INTERVAL": _env_int("MESSAGES_MIN_INTERVAL", 2),
        #: Organisations per page of the directory, offers and needs per page of /offers/.
        "FORUM_DIRECTORY_PER_PAGE": _env_int("DIRECTORY_PER_PAGE", 20),
        # Benchmarks only: each response says how many SQL statements it ran.
        "FORUM_QUERY_COUNT_HEADER": _env_bool("QUERY_COUNT_HEADER"),
    }
    if env == "testing":
        # A fast hash keeps the suite quick; never used outside tests.
        config.update(TESTING=True, FORUM_PASSWORD_HASH="pbkdf2:sha256:1000")  # noqa: S106
    config.update(overrides)
    return config
