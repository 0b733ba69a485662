"""``/news``: the list of news, one news item, and the admins' publication form."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from forum.discussions.models import Theme
from forum.extensions import db
from forum.forms import form_page
from forum.news import queries, services
from forum.news.forms import NewsForm
from forum.news.models import News
from forum.pagination import paginate, parse_page
from forum.permissions import Action, ensure, visible_news
from forum.refusals import Refused

bp = Blueprint("news", __name__, url_prefix="/news")

#: Largest id a row can have (a 32-bit integer column).
MAX_ID = 2**31 - 1


@bp.route("")
def index():
    stmt = queries.published(current_user)
    total = db.session.execute(visible_news(select(func.count(News.id)), current_user)).scalar_one()
    page = paginate(
        stmt,
        parse_page(request.args.get("page")),
        current_app.config.get("FORUM_NEWS_PER_PAGE", 20),
        total,
    )
    return render_template("news/index.html", page=page)


@bp.route("/<int:news_id>")
def detail(news_id: int):
    if news_id > MAX_ID:  # PostgreSQL would refuse the comparison itself
        abort(404)
    news = db.session.execute(
        visible_news(select(News), current_user)
        .where(News.id == news_id)
        .options(joinedload(News.author), joinedload(News.theme))
    ).scalar()
    if news is None:
        abort(404)
    return render_template("news/detail.html", news=news)


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new():
    ensure(current_user, Action.NEWS_PUBLISH)
    themes = db.session.execute(
        select(Theme).where(Theme.archived_at.is_(None)).order_by(Theme.position, Theme.name)
    ).scalars()
    form = NewsForm()
    form.theme.choices = [("", _("Aucun"))] + [(t.slug, t.name) for t in themes]
    if form.validate_on_submit():
        theme = None
        if form.theme.data:
            theme = db.session.execute(select(Theme).where(Theme.slug == form.theme.data)).scalar()
        try:
            news = services.publish(current_user, form.title.data, form.body.data, theme)
        except Refused as exc:
            form.form_errors.append(exc.message)
        else:
            return redirect(url_for(".detail", news_id=news.id))
    return form_page("news/new.html", form)
