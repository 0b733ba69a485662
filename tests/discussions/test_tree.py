"""Reply trees: depth-first order, depth, branch pages, soft delete keeps children."""

from __future__ import annotations

import gc
import re

from sqlalchemy import select

from forum.discussions import tree
from forum.discussions.models import Post
from forum.extensions import db
from tests.factories import (
    login,
    make_reply,
    make_thread,
    make_tree,
    make_user,
    opening_post,
)


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


def chain(app, author, thread, parent, length: int) -> list[Post]:
    """``length`` replies, each answering the previous one, under ``parent``."""
    posts = []
    for _ in range(length):
        parent = make_reply(app, author, thread, parent)
        posts.append(parent)
    return posts


def ids_in_path_order(app, thread) -> list[int]:
    with app.app_context():
        return list(
            db.session.execute(
                select(Post.id).where(Post.thread_id == thread.id).order_by(Post.path)
            ).scalars()
        )


def article(html: str, post_id: int) -> str:
    start = html.index(f'id="post-{post_id}"')
    return html[start : html.index("</article>", start)]


def test_posts_deeper_than_max_depth_continue_on_a_branch_page(app, client):
    alice = make_user(app, "alice")
    thread = make_thread(app, alice)
    deep = chain(app, alice, thread, None, 6)  # depths 1..6
    d6 = deep[-1]
    left = make_reply(app, alice, thread, d6)  # depth 7
    left_child = make_reply(app, alice, thread, left)  # depth 8
    right = make_reply(app, alice, thread, d6)  # depth 7
    root = opening_post(app, thread)

    page = client.get(f"/threads/{thread.id}").get_data(as_text=True)

    assert post_ids(page) == [root.id] + [p.id for p in deep]
    for hidden in (left, left_child, right):
        assert f'id="post-{hidden.id}"' not in page
    branch_url = f"/threads/{thread.id}/branch/{d6.id}"
    assert page.count("Continuer cette branche") == 1
    continue_link = page[page.index(f'id="post-{d6.id}"') :]
    assert f'<a href="{branch_url}">Continuer cette branche (2 réponses)' in continue_link

    branch = client.get(branch_url)
    html = branch.get_data(as_text=True)
    assert branch.status_code == 200
    assert post_ids(html) == [d6.id, left.id, left_child.id, right.id]
    assert "Continuer cette branche" not in html
    assert "en réponse à un message plus haut" in article(html, d6.id)
    # The way back up: the ancestors of the branch root, then the thread.
    context = html[html.index('class="branch-context"') : html.index('<div class="tree">')]
    assert [f"/posts/{p.id}" for p in [root, *deep[:-1]]] == re.findall(
        r'href="(/posts/\d+)"', context
    )
    assert f'href="/threads/{thread.id}"' in html


def test_branch_pages_chain_down_a_long_branch(make_app):
    app = make_app(FORUM_MAX_DEPTH=3)
    client = app.test_client()
    alice = make_user(app, "alice")
    thread = make_thread(app, alice)
    posts = chain(app, alice, thread, None, 10)  # depths 1..10
    by_depth = {p.depth: p for p in posts}

    thread_page = client.get(f"/threads/{thread.id}").get_data(as_text=True)
    assert [by_depth[d].id for d in (1, 2, 3)] == post_ids(thread_page)[1:]
    assert f"/threads/{thread.id}/branch/{by_depth[3].id}" in thread_page

    for root_depth, shown, continues in (
        (3, [3, 4, 5, 6], 6),
        (6, [6, 7, 8, 9], 9),
        (9, [9, 10], None),
    ):
        url = f"/threads/{thread.id}/branch/{by_depth[root_depth].id}"
        html = client.get(url).get_data(as_text=True)
        assert post_ids(html) == [by_depth[d].id for d in shown]
        if continues:
            assert f"/threads/{thread.id}/branch/{by_depth[continues].id}" in html
        else:
            assert "Continuer cette branche" not in html

    # Permalinks land on the view that shows the post.
    expected = {
        1: "",
        3: "",
        4: by_depth[3].id,
        6: by_depth[3].id,
        7: by_depth[6].id,
        10: by_depth[9].id,
    }
    for depth, branch_root in expected.items():
        post = by_depth[depth]
        location = client.get(f"/posts/{post.id}").headers["Location"]
        if branch_root:
            assert location == f"/threads/{thread.id}/branch/{branch_root}#post-{post.id}"
        else:
            assert location == f"/threads/{thread.id}#post-{post.id}"


def test_branch_page_of_another_thread_is_404_and_of_the_opening_post_redirects(app, client):
    alice = make_user(app, "alice")
    thread, other = make_thread(app, alice), make_thread(app, alice)
    reply = make_reply(app, alice, thread)

    assert client.get(f"/threads/{other.id}/branch/{reply.id}").status_code == 404
    assert client.get(f"/threads/{thread.id}/branch/424242").status_code == 404
    opening = client.get(f"/threads/{thread.id}/branch/{opening_post(app, thread).id}")
    assert opening.status_code == 302
    assert opening.headers["Location"] == f"/threads/{thread.id}"
    assert client.get(f"/threads/{thread.id}/branch/{reply.id}").status_code == 200


def test_replies_fold_in_details(app, client):
    alice = make_user(app, "alice")
    thread = make_thread(app, alice)
    a = make_reply(app, alice, thread)
    make_reply(app, alice, thread, a)
    make_reply(app, alice, thread, a)
    make_reply(app, alice, thread)

    html = client.get(f"/threads/{thread.id}").get_data(as_text=True)

    # Two posts have replies: the opening post and a.
    assert html.count('<details class="replies" open>') == 2
    assert html.count("<summary>2 réponses</summary>") == 2
    folded = html[html.index(f'id="post-{a.id}"') :]
    assert folded.index("<details") < folded.index("</details>")


def twelve_posts(app):
    """A thread of 12 posts: 3 replies with 2 each, one deeper reply and a late sibling."""
    alice = make_user(app, "alice")
    thread = make_thread(app, alice)
    posts = make_tree(app, alice, thread, [3, 2])  # 9 replies
    make_reply(app, alice, thread, posts[3])  # under the first reply's first child
    make_reply(app, alice, thread)  # a late sibling, last in depth-first order
    return thread


def test_large_thread_paginates_in_global_depth_first_order(make_app):
    app = make_app(FORUM_POSTS_PER_PAGE=5)
    client = app.test_client()
    thread = twelve_posts(app)
    expected = ids_in_path_order(app, thread)
    assert len(expected) == 12

    pages = [client.get(f"/threads/{thread.id}?page={n}") for n in (1, 2, 3)]

    assert [p.status_code for p in pages] == [200, 200, 200]
    html = [p.get_data(as_text=True) for p in pages]
    assert [len(post_ids(h)) for h in html] == [5, 5, 2]
    assert [i for h in html for i in post_ids(h)] == expected
    assert "Page 1 sur 3" in html[0]
    assert "Page 3 sur 3" in html[2]
    assert f'rel="next" href="/threads/{thread.id}?page=2"' in html[0]
    # A page that starts inside a branch says so.
    assert "en réponse à un message plus haut" in html[1]
    assert "en réponse à un message plus haut" not in html[0]
    # Past the end reads as the last page; bad numbers as the first.
    assert post_ids(client.get(f"/threads/{thread.id}?page=99999").get_data(as_text=True)) == (
        post_ids(html[2])
    )
    for raw in ("abc", "-1", "0", "1e9", "9" * 30):
        page = client.get(f"/threads/{thread.id}?page={raw}")
        assert page.status_code == 200
        assert post_ids(page.get_data(as_text=True)) in (post_ids(html[0]), post_ids(html[2]))


def test_permalinks_redirect_to_the_right_page(make_app):
    app = make_app(FORUM_POSTS_PER_PAGE=5)
    client = app.test_client()
    thread = twelve_posts(app)
    expected = ids_in_path_order(app, thread)

    for index, post_id in enumerate(expected):
        response = client.get(f"/posts/{post_id}")
        page = index // 5 + 1
        query = f"?page={page}" if page > 1 else ""
        assert response.status_code == 302
        assert response.headers["Location"] == f"/threads/{thread.id}{query}#post-{post_id}"
        landing = client.get(response.headers["Location"].split("#")[0])
        assert f'id="post-{post_id}"' in landing.get_data(as_text=True)


def test_permalink_of_a_deep_post_goes_to_its_branch_page_and_page(make_app):
    app = make_app(FORUM_POSTS_PER_PAGE=5, FORUM_MAX_DEPTH=3)
    client = app.test_client()
    alice = make_user(app, "alice")
    thread = make_thread(app, alice)
    d3 = chain(app, alice, thread, None, 3)[-1]
    below = [make_reply(app, alice, thread, d3) for _ in range(6)]  # depth 4, 6 siblings
    branch = f"/threads/{thread.id}/branch/{d3.id}"

    pages = [client.get(f"{branch}?page={n}").get_data(as_text=True) for n in (1, 2)]
    assert [i for h in pages for i in post_ids(h)] == [d3.id] + [p.id for p in below]

    assert client.get(f"/posts/{below[0].id}").headers["Location"] == f"{branch}#post-{below[0].id}"
    last = below[-1]
    assert client.get(f"/posts/{last.id}").headers["Location"] == f"{branch}?page=2#post-{last.id}"
    assert f'id="post-{last.id}"' in pages[1]


def test_deleted_post_keeps_its_place_and_children_on_thread_and_branch_pages(make_app):
    app = make_app(FORUM_MAX_DEPTH=2)
    client = app.test_client()
    alice = make_user(app, "alice")
    thread = make_thread(app, alice)
    a = make_reply(app, alice, thread, body="Un texte à retirer")
    d2 = make_reply(app, alice, thread, a, body="Le second texte à retirer")
    d3 = make_reply(app, alice, thread, d2, body="Encore visible")
    with app.app_context():
        for post_id in (a.id, d2.id):
            db.session.get(Post, post_id).deleted_at = db.func.now()
        db.session.commit()

    page = client.get(f"/threads/{thread.id}").get_data(as_text=True)
    branch = client.get(f"/threads/{thread.id}/branch/{d2.id}").get_data(as_text=True)

    assert post_ids(page) == [opening_post(app, thread).id, a.id, d2.id]
    assert "Un texte à retirer" not in page
    assert page.count("Ce message a été supprimé") == 2
    assert f"/threads/{thread.id}/branch/{d2.id}" in page
    assert post_ids(branch) == [d2.id, d3.id]
    assert "Le second texte à retirer" not in branch
    assert "Encore visible" in branch
    assert "message supprimé" in branch  # the ancestor list names no deleted author


def test_a_page_leaves_its_posts_to_no_garbage_collection(app, client):
    """Once a thread or branch page is served, its posts and nodes are freed: none waits,
    in a reference cycle, for the collector to walk it."""
    alice = make_user(app, "alice")
    thread = make_thread(app, alice)
    first = make_reply(app, alice, thread)
    make_reply(app, alice, thread, make_reply(app, alice, thread, first))
    login(client, "alice")
    paths = [f"/threads/{thread.id}", f"/threads/{thread.id}/branch/{first.id}"]
    for path in paths:
        assert client.get(path).status_code == 200  # warm: first-request set-up
    gc.collect()
    gc.disable()
    try:
        for path in paths:
            assert client.get(path).status_code == 200
        left = [obj for obj in gc.get_objects() if isinstance(obj, tree.PostRow | tree.Node)]
    finally:
        gc.enable()
    assert left == []
