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
"""

from __future__ import annotations

import json
import os

from flask import abort, render_template, request

from forum import create_app
from forum.accounts import views as accounts_views
from forum.discussions import views as discussions_views
from forum.search import views as search_views

VIEW_MODULES = (discussions_views, accounts_views, search_views)


class Captured(Exception):
    def __init__(self, template: str, context: dict) -> None:
        super().__init__(template)
        self.template, self.context = template, context


def _capture(template: str, **context):
    raise Captured(template, context)


def _full_path() -> str:
    query = request.query_string.decode()
    return request.path + (f"?{query}" if query else "")


def build_app():
    app = create_app()
    with open(os.environ["FORUM_BENCH_MANIFEST"], encoding="utf-8") as f:
        manifest = json.load(f)
    pages: dict[str, tuple[str, dict]] = {}
    saved = [module.render_template for module in VIEW_MODULES]
    for module in VIEW_MODULES:
        module.render_template = _capture
    try:
        for paths in manifest["pages"].values():
            for path in paths:
                with app.test_request_context(path, headers={"Accept-Language": "fr"}):
                    view = app.view_functions[request.url_rule.endpoint]
                    try:
                        view(**request.view_args)
                    except Captured as captured:
                        # Rendered once with the session open: everything it reads is loaded.
                        render_template(captured.template, **captured.context)
                        pages[path] = (captured.template, captured.context)
                # The app context is gone: the session is closed, the objects detached.
    finally:
        for module, original in zip(VIEW_MODULES, saved, strict=True):
            module.render_template = original

    @app.before_request
    def _from_memory():
        if request.path == "/healthz":
            return {"status": "ok"}
        page = pages.get(_full_path())
        if page is None:
            abort(404)
        template, context = page
        return render_template(template, **context)

    return app


app = build_app() if os.environ.get("FORUM_BENCH_MANIFEST") else None
