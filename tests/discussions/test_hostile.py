"""Hostile bodies over HTTP: refused in the form with the reason, nothing typed is lost,
nothing written; the worst accepted bodies are stored and their thread page costs the same
statements as any other. (Their render and display times are measured by bench/hostile.py.)
"""

from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import func, select

from forum.discussions.models import Post, Thread
from forum.extensions import db
from forum.hostile import ACCEPTED, REFUSED
from tests.factories import make_reply, make_thread, make_user, opening_post
from tests.test_page_budgets import BUDGETS

#: A few of each kind of limit (the content tests go through all of them).
SAMPLE = ["24 000 « ![ »", "7 000 mentions", "16 000 emphases « *a »", "12 000 éléments de liste"]
LIMIT_RE = re.compile(r"Le message [^<]*limite (est )?de [0-9]+")


@pytest.fixture
def alice(app):
    return make_user(app, "alice")


@pytest.fixture
def thread(app, alice):
    return make_thread(app, alice, title="Un fil pour les limites", body="Ouverture.")


def _posts(app) -> int:
    with app.app_context():
        return db.session.execute(select(func.count()).select_from(Post)).scalar_one()


def _textarea(page: str) -> str:
    match = re.search(r'<textarea[^>]*name="body"[^>]*>(.*?)</textarea>', page, re.S)
    assert match, "no body field on the page"
    return html.unescape(match.group(1)).lstrip("\r\n")


@pytest.mark.parametrize("name", SAMPLE)
def test_hostile_reply_is_400_in_the_form_and_nothing_is_lost(
    app, client, auth, alice, thread, name
):
    auth.login("alice")
    response = client.post_form(f"/threads/{thread.id}/reply", {"body": REFUSED[name]})

    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert LIMIT_RE.search(page)
    assert _textarea(page) == REFUSED[name]
    assert _posts(app) == 1


def test_hostile_new_thread_keeps_title_and_body(app, client, auth, alice):
    auth.login("alice")
    body = REFUSED["24 000 « ![ »"]
    response = client.post_form(
        "/themes/services-publics/new", {"title": "Un titre tout à fait correct", "body": body}
    )

    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Le message contient 24000 liens, images, adresses web ou crochets [ ]" in page
    assert 'value="Un titre tout à fait correct"' in page
    assert _textarea(page) == body
    with app.app_context():
        assert db.session.execute(select(func.count()).select_from(Thread)).scalar_one() == 0


def test_hostile_edit_is_refused_and_the_post_unchanged(app, client, auth, alice, thread):
    auth.login("alice")
    opening = opening_post(app, thread)
    body = REFUSED["7 000 mentions"]

    response = client.post_form(f"/posts/{opening.id}/edit", {"body": body})

    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Le message contient 4176 mentions @pseudo ; la limite est de 50." in page
    assert _textarea(page) == body
    with app.app_context():
        post = db.session.get(Post, opening.id)
        assert (post.body_source, post.edit_count) == ("Ouverture.", 0)


@pytest.mark.parametrize("member", [False, True], ids=["anonymous", "member"])
def test_thread_of_worst_accepted_bodies_costs_the_same_statements(
    app, client, auth, query_counter, alice, thread, member
):
    plain = make_thread(app, alice, title="Un fil ordinaire", body="Rien de spécial.")
    for n in range(len(ACCEPTED)):
        make_reply(app, alice, plain, body=f"Une réponse ordinaire n°{n}.")
    for body in ACCEPTED.values():
        make_reply(app, alice, thread, body=body)
    if member:
        make_user(app, "lecteur")
        auth.login("lecteur")

    counts = {}
    for target in (plain, thread):
        client.get(f"/threads/{target.id}")  # the first visit moves the read position
        with query_counter() as counter:
            response = client.get(f"/threads/{target.id}")
        assert response.status_code == 200
        assert len(re.findall(r'id="post-\d+"', response.get_data(as_text=True))) == 1 + len(
            ACCEPTED
        )
        counts[target.id] = counter.count
    # One less than the budget's deep thread: every reply here is on the page, so their
    # positions are counted from it, not in SQL.
    assert counts[thread.id] == counts[plain.id] == BUDGETS["/threads/{thread}"][member] - 1
