"""Split, merge and move keep the index right, in the act's own transaction."""

from __future__ import annotations

from sqlalchemy import select

from forum.accounts.models import AnonymousUser, User
from forum.discussions.models import Post, Theme, Thread
from forum.extensions import db
from forum.moderation import services as moderation
from forum.search import services as search
from forum.search.models import SearchEntry
from forum.search.text import normalise, parse_query
from tests.factories import make_reply, make_thread, make_user, opening_post


def _found(words: str, **filters) -> list[int]:
    page = search.search(
        AnonymousUser(), parse_query(words), search.Filters(**filters), page=1, per_page=20
    )
    return [result.item.id for result in page.items]


def _entry(post_id: int) -> SearchEntry:
    return db.session.execute(
        select(SearchEntry).where(SearchEntry.kind == "post", SearchEntry.object_id == post_id)
    ).scalar_one()


def test_a_split_off_thread_is_found_by_its_title(app):
    alice = make_user(app, "alice")
    modo = make_user(app, "modo", role="moderator")
    thread = make_thread(app, alice, title="Les transports en commun")
    branch = make_reply(app, alice, thread, body="Et si on parlait des tarifs ?")
    make_reply(app, modo, thread, parent=branch, body="Bonne question.")
    with app.app_context():
        moderation.split(
            db.session.get(User, modo.id),
            db.session.get(Post, branch.id),
            "Tarification solidaire de l'eau",
            "hors sujet",
        )
    with app.app_context():
        assert _found("tarification solidaire") == [branch.id]
        assert _found("tarification", kind="fils") == [branch.id]
        assert _entry(branch.id).title == normalise("Tarification solidaire de l'eau")


def test_after_a_merge_the_old_opening_post_loses_its_old_title(app):
    alice = make_user(app, "alice")
    modo = make_user(app, "modo", role="moderator")
    target = make_thread(app, alice, title="Les cantines scolaires")
    merged = make_thread(app, alice, title="Restauration collective biologique", body="Du local.")
    old_root = opening_post(app, merged)
    with app.app_context():
        assert _found("biologique") == [old_root.id]
        moderation.merge(
            db.session.get(User, modo.id),
            db.session.get(Thread, merged.id),
            db.session.get(Thread, target.id),
            "doublon",
        )
    with app.app_context():
        assert _found("biologique") == []
        assert _entry(old_root.id).title == ""
        assert _found("cantines", kind="fils") == [opening_post(app, target).id]
        assert _found("local") == [old_root.id]  # its text is still found, as a reply


def test_a_moved_thread_is_found_in_its_new_theme(app):
    alice = make_user(app, "alice")
    modo = make_user(app, "modo", role="moderator")
    thread = make_thread(app, alice, "urbain", title="Ateliers de réparation de vélos")
    with app.app_context():
        theme = db.session.execute(
            select(Theme).where(Theme.slug == "services-publics")
        ).scalar_one()
        moderation.move(db.session.get(User, modo.id), db.session.get(Thread, thread.id), theme)
        root = opening_post(app, thread).id
        assert _found("réparation", theme=theme) == [root]
        assert _entry(root).title == normalise("Ateliers de réparation de vélos")
