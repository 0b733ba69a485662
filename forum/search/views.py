"""``/search``: the search form and its results."""

from __future__ import annotations

import re

from flask import Blueprint, current_app, render_template, request
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from forum.accounts.models import User
from forum.accounts.services import username_key
from forum.discussions.models import Theme
from forum.extensions import db
from forum.moderation import limits
from forum.pagination import parse_page
from forum.refusals import Refused
from forum.search import services
from forum.search.text import MAX_QUERY_LENGTH, parse_query

bp = Blueprint("search", __name__)

_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")


@bp.route("/search")
@limits.search
def search():
    args = request.args
    raw = args.get("q", "")
    themes = list(db.session.execute(select(Theme).order_by(Theme.position, Theme.name)).scalars())
    filters = services.Filters(
        theme=next((t for t in themes if t.slug == args.get("theme")), None),
        since=args.get("since") if args.get("since") in services.PERIODS else None,
        kind=args.get("kind") if args.get("kind") in services.KINDS else None,
    )
    author_name = _CONTROL_RE.sub("", args.get("author", "")).strip()[:30]
    context = {
        "q": _CONTROL_RE.sub(" ", raw)[: MAX_QUERY_LENGTH * 2],
        "themes": themes,
        "filters": filters,
        "author_name": author_name,
        "periods": services.PERIODS,
        "page": None,
        "error": None,
    }
    if not raw.strip():
        return render_template("search/results.html", **context)
    if author_name:
        filters.author = db.session.execute(
            select(User).where(User.username_key == username_key(author_name))
        ).scalar()
        if filters.author is None:
            context["error"] = _(
                "Aucun compte ne porte le pseudo « %(name)s » : vérifiez l'orthographe "
                "ou retirez ce filtre.",
                name=author_name,
            )
            return render_template("search/results.html", **context)
    try:
        query = parse_query(raw)
    except Refused as exc:
        context["error"] = exc.message
        return render_template("search/results.html", **context), 400
    context["page"] = services.search(
        current_user,
        query,
        filters,
        parse_page(args.get("page")),
        current_app.config.get("FORUM_SEARCH_RESULTS_PER_PAGE", 20),
        examine=current_app.config["FORUM_SEARCH_CANDIDATES"],
    )
    return render_template("search/results.html", **context)
