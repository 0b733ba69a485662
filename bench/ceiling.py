"""The render ceiling: the forum's own pages rendered from memory, no database at all.

``gunicorn bench.ceiling:app`` builds the forum with :func:`forum.create_app` (same
configuration, extensions, Jinja environment and hooks), then, once at start-up, calls
the real view of every path of the benchmark manifest (``FORUM_BENCH_MANIFEST``) with
``render_template`` intercepted: the template name and its context — ORM objects, loaded
by the real queries — are kept, rendered once while the session is open so every lazy
attribute the template touches is loaded, then detached. Each request for one of those
paths renders the same template from that context: what is left is Flask, Jinja and the
permission checks the templates make, so our speed divided by this one is what the
database and the queries cost. Feeds are not templates: they have no ceiling.

Member pages (the manifest's ``member_pages``: ``{key: {"paths": [...], "user": name}}``)
are captured the same way with that member logged in (``login_user`` on the ``User``
loaded by the real query), after one real reading of the page, so the captured page is
the one a member gets on coming back — their read position already moved, as it has for
the loaded clients. The ceiling's clients log in exactly as our server's do: through the
real login form (``/auth/login`` is passed to the real view: a database query and a
password check once per client, before the clock starts). Their session cookie then
names the member, and the ceiling's user loader hands back the captured, detached
``User`` — checking the session version as the real loader does — instead of asking the
database. So a member's request to the ceiling goes through the same session, CSRF,
Flask-Login and permission code as on our server, with the same cookies and markup;
only the queries are gone. The other way, member pages under a path prefix with a hook
that logs the member in on each request, would do work no member's request does
(``login_user`` rewrites the session, so every response would set a cookie) and leave
out the loading of the session a real member sends.
A page is looked up by its path and the member it was captured for (none: anonymous),
so the same thread can have an anonymous and a member ceiling.
"""

from __future__ import annotations

import json
import os

from flask import abort, current_app, render_template, request
from flask_login import current_user, login_user
from sqlalchemy import select

from forum import create_app
from forum.accounts import views as accounts_views
from forum.accounts.models import User
from forum.discussions import views as discussions_views
from forum.extensions import db, login_manager
from forum.search import views as search_views

VIEW_MODULES = (discussions_views, accounts_views, search_views)
#: Passed to the real views: the ceiling's clients log in as our server's do.
LOGIN_PATH = "/auth/login"


class Captured(Exception):
    def __init__(self, template: str, context: dict) -> None:
        super().__init__(template)
        self.template, self.context = template, context


def _capture(template: str, **context):
    raise Captured(template, context)


def _full_path() -> str:
    query = request.query_string.decode()
    return request.path + (f"?{query}" if query else "")


def _view():
    """The real view of the current test request."""
    return current_app.view_functions[request.url_rule.endpoint](**request.view_args)


def _member(username: str) -> User:
    """``username``'s account, loaded as the real user loader loads it, and logged in."""
    user = db.session.execute(select(User).where(User.username == username)).scalar_one()
    user = accounts_views.load_user(user.get_id())
    if user is None:
        raise SystemExit(f"bench ceiling: {username} cannot log in (suspended?)")
    login_user(user)
    return user


def build_app():
    app = create_app()
    with open(os.environ["FORUM_BENCH_MANIFEST"], encoding="utf-8") as f:
        manifest = json.load(f)
    wanted = [(path, None) for paths in manifest["pages"].values() for path in paths]
    for spec in manifest.get("member_pages", {}).values():
        wanted += [(path, spec["user"]) for path in spec["paths"]]

    # Keyed by path and session id of the member (None: anonymous).
    pages: dict[tuple[str, str | None], tuple[str, dict]] = {}
    members: dict[str, User] = {}
    for path, username in wanted:
        if username is None:
            continue
        # The member reads the page once for real (their read position moves), as the
        # loaded clients have by the time they are measured.
        with app.test_request_context(path, headers={"Accept-Language": "fr"}):
            _member(username)
            _view()
    saved = [module.render_template for module in VIEW_MODULES]
    for module in VIEW_MODULES:
        module.render_template = _capture
    try:
        for path, username in wanted:
            with app.test_request_context(path, headers={"Accept-Language": "fr"}):
                session_id = None
                if username is not None:
                    user = _member(username)
                    session_id = user.get_id()
                    members[session_id] = user
                try:
                    _view()
                except Captured as captured:
                    # Rendered once with the session open: everything it reads is loaded.
                    render_template(captured.template, **captured.context)
                    pages[path, session_id] = (captured.template, captured.context)
            # The app context is gone: the session is closed, the objects detached.
    finally:
        for module, original in zip(VIEW_MODULES, saved, strict=True):
            module.render_template = original

    @login_manager.user_loader
    def _captured_member(session_id: str) -> User | None:
        # The real loader's checks (the session id holds the session version), from memory.
        user = members.get(session_id)
        if user is not None:
            return None if user.is_suspended else user
        return accounts_views.load_user(session_id)

    @app.before_request
    def _from_memory():
        if request.path == "/healthz":
            return {"status": "ok"}
        if request.path == LOGIN_PATH:
            return None  # the real login view
        member = current_user.get_id() if current_user.is_authenticated else None
        page = pages.get((_full_path(), member))
        if page is None:
            abort(404)
        template, context = page
        return render_template(template, **context)

    return app


app = build_app() if os.environ.get("FORUM_BENCH_MANIFEST") else None
