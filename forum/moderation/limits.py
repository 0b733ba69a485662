"""Rate limits (Flask-Limiter), modelled on Discourse's defaults.

``FORUM_RATE_LIMITS`` picks a policy: ``default``, ``relaxed`` (load tests) or ``off``
(unit tests that do not test limits; Flask-Limiter is then disabled). Counters live in
memory, or in Redis when ``FORUM_REDIS_URL`` is set. Client addresses come from
``X-Forwarded-For`` only behind ``FORUM_PROXY_COUNT`` trusted proxies (``ProxyFix``).
A refusal answers 429 with ``Retry-After`` and the French error page.
"""

from __future__ import annotations

from datetime import timedelta

from flask import current_app, request
from flask_babel import gettext as _
from flask_limiter.util import get_remote_address
from flask_login import current_user

from forum.accounts.services import username_key
from forum.db import utcnow
from forum.extensions import limiter

POLICIES = {
    "default": {
        "login_ip": "6 per minute",
        # Failed attempts on one account: a soft lockout of minutes, never a permanent one.
        "login_account": "10 per 15 minutes",
        "register_ip": "5 per hour",
        "post": "1 per 5 seconds",
        "post_new_account": "1 per 30 seconds",
        "thread": "20 per day",
        "thread_new_account": "5 per day",
        "report": "20 per day",
        "react": "30 per minute",
        "vote": "20 per minute",
        # A search costs tens of milliseconds of a worker (a phrase, hundreds): enough
        # for a reader refining a query, not for a script looping on the page.
        "search": "30 per minute",
    },
    "relaxed": {
        "login_ip": "600 per minute",
        "login_account": "100 per minute",
        "register_ip": "1000 per hour",
        "post": "100 per second",
        "post_new_account": "100 per second",
        "thread": "10000 per day",
        "thread_new_account": "10000 per day",
        "report": "10000 per day",
        "react": "1000 per second",
        "vote": "1000 per second",
        "search": "1000 per second",
    },
}

NEW_ACCOUNT = timedelta(days=1)


def _policy(name: str) -> str:
    policy = current_app.config["FORUM_RATE_LIMITS"]
    return POLICIES.get(policy, POLICIES["default"])[name]


def _is_new_account() -> bool:
    created = getattr(current_user, "created_at", None)
    return created is not None and utcnow() - created < NEW_ACCOUNT


def _user_key() -> str:
    if current_user.is_authenticated:
        return f"user:{current_user.id}"
    return f"ip:{get_remote_address()}"


def _login_key() -> str:
    return "login:" + username_key((request.form.get("login") or "").strip())[:254]


def _message() -> str:
    return _("Vous êtes allé·e un peu vite. Patientez un instant puis réessayez.")


def _failed(response) -> bool:
    """A login that did not go through (a successful one redirects)."""
    return response.status_code != 302


login_ip = limiter.shared_limit(
    lambda: _policy("login_ip"), "login-ip", methods=["POST"], error_message=_message
)
login_account = limiter.shared_limit(
    lambda: _policy("login_account"),
    "login-account",
    key_func=_login_key,
    methods=["POST"],
    deduct_when=_failed,
    error_message=lambda: _(
        "Trop de tentatives de connexion sur ce compte. Attendez quelques minutes, puis réessayez."
    ),
)
register = limiter.shared_limit(
    lambda: _policy("register_ip"), "register", methods=["POST"], error_message=_message
)
post = limiter.shared_limit(
    lambda: _policy("post_new_account" if _is_new_account() else "post"),
    "post",
    key_func=_user_key,
    methods=["POST"],
    error_message=_message,
)
thread = limiter.shared_limit(
    lambda: _policy("thread_new_account" if _is_new_account() else "thread"),
    "thread",
    key_func=_user_key,
    methods=["POST"],
    error_message=_message,
)
report = limiter.shared_limit(
    lambda: _policy("report"),
    "report",
    key_func=_user_key,
    methods=["POST"],
    error_message=_message,
)
react = limiter.shared_limit(
    lambda: _policy("react"),
    "react",
    key_func=_user_key,
    methods=["POST"],
    error_message=_message,
)
vote = limiter.shared_limit(
    lambda: _policy("vote"),
    "vote",
    key_func=_user_key,
    methods=["POST"],
    error_message=_message,
)
search = limiter.shared_limit(
    lambda: _policy("search"),
    "search",
    key_func=_user_key,
    # The search form alone, before any query, costs nothing.
    exempt_when=lambda: not request.args.get("q", "").strip(),
    error_message=_message,
)
