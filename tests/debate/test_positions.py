"""Positions: written with replies and edits, counted under posts, mapped, filtered."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select, update

from forum.db import utcnow
from forum.discussions import services as discussions
from forum.discussions.models import Post, Theme, Thread
from forum.extensions import db
from forum.moderation import services as moderation
from forum.refusals import Refused
from tests.debate.conftest import reply_with, user_named
from tests.factories import make_thread, make_user, opening_post


@pytest.fixture
def debate(app):
    """Alice opens; Bruno pour, Chloé contre, Dan nuance to Bruno, one reply without position."""
    alice, bruno = make_user(app, "alice"), make_user(app, "bruno")
    chloe, dan = make_user(app, "chloe"), make_user(app, "dan")
    thread = make_thread(app, alice, title="Les coopératives et l'emploi local")
    pour = reply_with(app, bruno, thread, position="pour", body="Oui : elles ancrent l'emploi.")
    contre = reply_with(app, chloe, thread, position="contre", body="Non : trop petites.")
    nuance = reply_with(app, dan, thread, pour, position="nuance", body="Oui, si on les finance.")
    plain = reply_with(app, dan, thread, body="Merci pour ce fil, je suis la discussion.")
    return {"thread": thread, "pour": pour, "contre": contre, "nuance": nuance, "plain": plain}


def test_reply_stores_its_position_relative_to_the_post_answered(app, debate):
    assert debate["pour"].position == "pour"
    assert debate["nuance"].position == "nuance"
    assert debate["nuance"].parent_id == debate["pour"].id
    assert debate["plain"].position is None


def test_no_position_towards_ones_own_post_nor_unknown_codes(app, debate):
    with app.app_context():
        bruno = user_named("bruno")
        thread = db.session.get(Thread, debate["thread"].id)
        own = db.session.get(Post, debate["pour"].id)
        with pytest.raises(Refused, match="propre message"):
            discussions.reply(bruno, thread, "Je me donne raison.", own, position="pour")
        with pytest.raises(Refused, match="Position inconnue"):
            discussions.reply(bruno, thread, "Peut-être.", None, position="bof")
    alice = make_user(app, "alice2")
    thread2 = make_thread(app, alice)
    # The thread's author answering their own opening post.
    with app.app_context(), pytest.raises(Refused, match="propre message"):
        discussions.reply(
            user_named("alice2"), db.session.get(Thread, thread2.id), "Moi.", position="pour"
        )


def test_edit_changes_or_clears_the_position(app, debate):
    with app.app_context():
        post = db.session.get(Post, debate["contre"].id)
        discussions.edit_post(user_named("chloe"), post, post.body_source, position="nuance")
        assert db.session.get(Post, post.id).position == "nuance"
        post = db.session.get(Post, post.id)
        discussions.edit_post(user_named("chloe"), post, post.body_source, position="")
        assert db.session.get(Post, post.id).position is None
        opening = db.session.get(Post, opening_post(app, debate["thread"]).id)
        with pytest.raises(Refused, match="premier message"):
            discussions.edit_post(user_named("alice"), opening, "Nouveau texte.", position="pour")


def test_reply_form_field_and_badge(app, client, auth, debate):
    make_user(app, "eva")
    auth.login("eva")
    thread_id = debate["thread"].id
    page = client.get(f"/threads/{thread_id}").get_data(as_text=True)
    assert 'name="position" value="contre"' in page  # the picker of the reply box
    response = client.post_form(
        f"/threads/{thread_id}/reply",
        {"body": "Je suis contre, chiffres à l'appui.", "position": "contre"},
    )
    assert response.status_code == 302
    page = client.get(f"/threads/{thread_id}").get_data(as_text=True)
    assert page.count("badge position position-contre") == 2
    assert '<span class="visually-hidden">Position : </span>Contre' in page
    # Under the opening post: the counts of its direct replies' positions, each a filter link.
    assert re.search(r"position=pour#map-post-\d+\">1 pour</a> · <a [^>]*>2 contre</a>", page)
    bad = client.post_form(f"/threads/{thread_id}/reply", {"body": "Hmm.", "position": "peut-etre"})
    assert bad.status_code == 400 and "Position inconnue" in bad.get_data(as_text=True)


def test_map_puts_pour_and_contre_side_by_side_at_constant_queries(
    app, client, debate, query_counter
):
    thread_id = debate["thread"].id
    page = client.get(f"/threads/{thread_id}/map").get_data(as_text=True)
    assert "map-pour" in page and "map-contre" in page
    section = page.split(f'id="map-post-{debate["pour"].id}"')[1]
    assert "Oui, si on les finance." in section.split("</section>")[0]
    assert "Merci pour ce fil" not in page  # no position: not on the map
    only = client.get(f"/threads/{thread_id}/map?position=contre").get_data(as_text=True)
    assert "Non : trop petites." in only and "map-column map-pour" not in only
    with query_counter() as small:
        client.get(f"/threads/{thread_id}/map")
    bruno = make_user(app, "bruno2")
    for n in range(15):
        reply_with(app, bruno, debate["thread"], debate["contre"], "pour" if n % 2 else "question")
    with query_counter() as large:
        assert client.get(f"/threads/{thread_id}/map").status_code == 200
    assert small.count == large.count == 2  # the thread, its posts with their authors


def test_arguments_only_hides_replies_without_position(app, client, debate):
    thread_id = debate["thread"].id
    full = client.get(f"/threads/{thread_id}").get_data(as_text=True)
    assert "Merci pour ce fil" in full
    filtered = client.get(f"/threads/{thread_id}?arguments=1").get_data(as_text=True)
    assert "Merci pour ce fil" not in filtered
    assert "Oui, si on les finance." in filtered and "Arguments seulement" in filtered


def test_hidden_and_deleted_posts_positions_count_only_for_who_may_see_them(
    app, client, auth, debate
):
    make_user(app, "modo", role="moderator")
    with app.app_context():
        db.session.execute(
            update(Post).where(Post.id == debate["contre"].id).values(hidden_at=utcnow())
        )
        db.session.commit()
    thread_id = debate["thread"].id
    anonymous = client.get(f"/threads/{thread_id}").get_data(as_text=True)
    assert ">1 contre<" not in anonymous and ">1 pour<" in anonymous
    assert "Non : trop petites." not in client.get(f"/threads/{thread_id}/map").get_data(
        as_text=True
    )
    auth.login("modo")
    assert ">1 contre<" in client.get(f"/threads/{thread_id}").get_data(as_text=True)
    auth.logout()
    auth.login("chloe")  # the author sees her own hidden post counted
    assert ">1 contre<" in client.get(f"/threads/{thread_id}").get_data(as_text=True)
    with app.app_context():
        post = db.session.get(Post, debate["contre"].id)
        post.hidden_at = None
        discussions.delete_post(user_named("chloe"), post)
    assert ">1 contre<" not in client.get(f"/threads/{thread_id}").get_data(as_text=True)


def test_moving_and_splitting_keep_positions(app, debate):
    make_user(app, "modo", role="moderator")
    with app.app_context():
        modo = user_named("modo")
        thread = db.session.get(Thread, debate["thread"].id)
        urbain = db.session.execute(select(Theme).where(Theme.slug == "urbain")).scalar_one()
        moderation.move(modo, thread, urbain, "Plus à sa place ici.")
        assert db.session.get(Post, debate["nuance"].id).position == "nuance"
        branch_root = db.session.get(Post, debate["pour"].id)
        new_thread = moderation.split(
            modo, branch_root, "Le financement des coopératives", "Sous-débat."
        )
        moved = db.session.get(Post, debate["nuance"].id)
        assert moved.thread_id == new_thread.id and moved.position == "nuance"
        assert moved.parent_id == branch_root.id


def test_counts_take_in_replies_on_later_pages_and_below_the_deepest_level(make_app):
    """The page counts the positions of replies it shows itself; those on the next page,
    on a branch page or split away are counted in SQL, in the same single statement."""
    app = make_app(FORUM_POSTS_PER_PAGE=3, FORUM_MAX_DEPTH=2)
    client = app.test_client()
    alice, bruno, chloe = make_user(app, "alice"), make_user(app, "bruno"), make_user(app, "chloe")
    thread = make_thread(app, alice)
    first = reply_with(app, bruno, thread, position="pour")
    deep = reply_with(app, chloe, thread, first, position="nuance")
    reply_with(app, bruno, thread, deep, position="contre")  # below the deepest level shown
    reply_with(app, chloe, thread, position="contre")  # on page 2
    reply_with(app, bruno, thread, position="pour")  # on page 2
    opening = opening_post(app, thread).id
    page = client.get(f"/threads/{thread.id}").get_data(as_text=True)
    assert f'id="post-{deep.id}"' in page and "?page=2" in page
    assert f'#map-post-{opening}">2 pour</a>' in page
    assert f'#map-post-{opening}">1 contre</a>' in page
    assert f'#map-post-{first.id}">1 nuance</a>' in page
    assert f'#map-post-{deep.id}">1 contre</a>' in page
    make_user(app, "modo", role="moderator")
    with app.app_context():
        moderation.split(
            user_named("modo"), db.session.get(Post, deep.id), "Un sous-débat", "Il part."
        )
    page = client.get(f"/threads/{thread.id}").get_data(as_text=True)
    assert f'#map-post-{first.id}">' not in page  # its only reply left with the split
    assert f'#map-post-{opening}">2 pour</a>' in page
