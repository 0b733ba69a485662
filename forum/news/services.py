"""Publishing news: one call, one transaction, indexed for search in the same commit."""

from __future__ import annotations

from forum import content
from forum.accounts.models import User
from forum.db import utcnow
from forum.discussions.models import Theme
from forum.discussions.services import check_body, check_title, slugify
from forum.extensions import db
from forum.news.models import News
from forum.pages.versions import touch
from forum.permissions import Action, ensure
from forum.search import services as search


def publish(author: User, title: str, body: str, theme: Theme | None = None) -> News:
    """Publish a news item now.

    :raise Refused: bad title or body.
    :raise 403: ``author`` may not publish news.
    """
    ensure(author, Action.NEWS_PUBLISH)
    title, body = check_title(title), check_body(body)
    now = utcnow()
    news = News(
        title=title,
        slug=slugify(title),
        body_source=body,
        body_html=content.render_markdown(body),
        render_version=content.RENDER_VERSION,
        theme_id=theme.id if theme is not None else None,
        author_id=author.id,
        published_at=now,
        created_at=now,
    )
    db.session.add(news)
    db.session.flush()
    search.index_news(news)
    touch(home=True)
    db.session.commit()
    return news
