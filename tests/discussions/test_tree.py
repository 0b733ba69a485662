"""Reply trees: depth-first order, depth, branch pages, soft delete keeps children."""

from __future__ import annotations

import re

from sqlalchemy import select

from forum.discussions.models import Post
from forum.extensions import db
from tests.factories import make_reply, make_thread, make_user, opening_post


def post_ids(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'id="post-(\d+)"', html)]


def test_thread_page_lists_posts_depth_first(app, client):
    alice = make_user(app, "alice")
    thread = make_thread(app, alice)
    a = make_reply(app, alice, thread)
    b = make_reply(app, alice, thread)
    a1 = make_reply(app, alice, thread, a)
    a1x = make_reply(app, alice, thread, a1)
    a2 = make_reply(app, alice, thread, a)
    b1 = make_reply(app, alice, thread, b)
    root = opening_post(app, thread)

    page = client.get(f"/threads/{thread.id}")

    assert page.status_code == 200
    expected = [root.id, a.id, a1.id, a1x.id, a2.id, b.id, b1.id]
    assert post_ids(page.get_data(as_text=True)) == expected
    with app.app_context():
        depths = dict(db.session.execute(select(Post.id, Post.depth)).all())
    assert [depths[i] for i in expected] == [0, 1, 2, 3, 2, 1, 2]
