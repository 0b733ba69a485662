"""The benchmark generator leaves the rows the services would: replay one plan both ways."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from forum import bench, content
from forum.accounts import services as accounts
from forum.accounts.models import AnonymousUser, User
from forum.discussions import services as discussions
from forum.discussions.models import Post, Theme, Thread
from forum.extensions import db
from forum.search import services as search
from forum.search.models import SearchEntry
from forum.search.text import parse_query

QUERIES = ("coopérative", "logement social", "syndicat santé", "mirabae")
POST_ID_RE = re.compile(r'<article class="post[^"]*" id="post-(\d+)"')


def _plan(app) -> bench.Plan:
    with app.app_context():
        themes = list(db.session.execute(select(Theme.id).order_by(Theme.id)).scalars())
    return bench.make_plan(300, threads=12, users=8, theme_ids=themes, seed=3, pool=60)


def _replay(plan: bench.Plan) -> tuple[list[int], list[int]]:
    """Write ``plan`` through the services; returns the user ids and thread ids, in plan order."""
    users = [
        accounts.register(f"svc{n}", f"svc{n}@exemple.org", bench.PASSWORD).id
        for n in range(plan.users)
    ]
    threads = []
    for t in plan.threads:
        theme = db.session.get(Theme, t.theme_id)
        author = db.session.get(User, users[t.authors[0]])
        thread = discussions.create_thread(author, theme, t.title, plan.bodies[t.bodies[0]])
        threads.append(thread.id)
        posts = [
            db.session.execute(
                select(Post).where(Post.thread_id == thread.id, Post.parent_id.is_(None))
            ).scalar_one()
        ]
        for i in range(1, len(t.parents)):
            posts.append(
                discussions.reply(
                    db.session.get(User, users[t.authors[i]]),
                    db.session.get(Thread, thread.id),
                    plan.bodies[t.bodies[i]],
                    posts[t.parents[i]],
                )
            )
    return users, threads


def _snapshot(users: list[int], threads: list[int]) -> dict:
    """Everything but ids and times, keyed by plan positions: comparable across both writes."""
    user_index = {user_id: n for n, user_id in enumerate(users)}
    snap: dict = {"threads": [], "user_posts": []}
    for thread_id in threads:
        thread = db.session.get(Thread, thread_id)
        posts = list(
            db.session.execute(
                select(Post).where(Post.thread_id == thread_id).order_by(Post.path)
            ).scalars()
        )
        by_id = {p.id: p for p in posts}
        entries = {
            e.object_id: (e.title, e.body)
            for e in db.session.execute(
                select(SearchEntry).where(SearchEntry.object_id.in_(list(by_id)))
            ).scalars()
        }
        assert thread.last_post_at == max(p.created_at for p in posts)
        snap["threads"].append(
            (
                thread.title,
                thread.slug,
                thread.theme_id,
                thread.reply_count,
                user_index[thread.author_id],
                user_index[thread.last_post_author_id],
                [
                    (
                        p.path,
                        p.depth,
                        p.child_count,
                        by_id[p.parent_id].path if p.parent_id else None,
                        user_index[p.author_id],
                        p.body_source,
                        p.body_html,
                        p.render_version,
                        entries[p.id],
                    )
                    for p in posts
                ],
            )
        )
    snap["user_posts"] = [db.session.get(User, u).post_count for u in users]
    snap["search"] = {}
    for raw in QUERIES:
        page = search.search(AnonymousUser(), parse_query(raw), search.Filters(), 1, 10_000)
        snap["search"][raw] = sorted(
            (threads.index(r.item.thread_id), r.item.path)
            for r in page.items
            if r.item.thread_id in threads
        )
    return snap


def _check_invariants() -> None:
    posts = list(db.session.execute(select(Post)).scalars())
    by_id = {p.id: p for p in posts}
    children: dict[int, int] = {}
    for post in posts:
        assert post.body_html == content.render_markdown(post.body_source)
        assert post.render_version == content.RENDER_VERSION
        if post.parent_id is None:
            assert (post.path, post.depth) == ("", 0)
            continue
        parent = by_id[post.parent_id]
        children[parent.id] = children.get(parent.id, 0) + 1
        assert parent.thread_id == post.thread_id
        assert post.depth == parent.depth + 1
        assert post.path[:-6] == parent.path and post.path[-6:].isdigit()
        assert int(post.path[-6:]) <= parent.child_count
    for post in posts:
        assert post.child_count == children.get(post.id, 0)
    for thread in db.session.execute(select(Thread)).scalars():
        count = db.session.execute(
            select(func.count()).where(Post.thread_id == thread.id)
        ).scalar_one()
        assert thread.reply_count == count - 1
    for theme in db.session.execute(select(Theme)).scalars():
        threads = list(
            db.session.execute(select(Thread).where(Thread.theme_id == theme.id)).scalars()
        )
        assert theme.thread_count == len(threads)
        assert theme.post_count == sum(t.reply_count + 1 for t in threads)
        if threads:
            assert theme.last_post_at >= max(t.last_post_at for t in threads)
    for user in db.session.execute(select(User)).scalars():
        count = db.session.execute(
            select(func.count()).where(Post.author_id == user.id)
        ).scalar_one()
        assert user.post_count == count
    indexed = db.session.execute(select(func.count()).select_from(SearchEntry)).scalar_one()
    assert indexed == len(posts)


def test_generator_writes_what_the_services_write(app, client):
    plan = _plan(app)
    assert plan.posts == 300
    assert max(len(t.parents) for t in plan.threads) >= 30  # a long thread, scaled down
    with app.app_context():
        svc_users, svc_threads = _replay(plan)
        report = bench.write_plan(plan, user_prefix="gen")
        first_user, first_thread, _first_post = report.first_ids
        gen_users = list(range(first_user, first_user + plan.users))
        gen_threads = list(range(first_thread, first_thread + len(plan.threads)))
        db.session.remove()
        generated = _snapshot(gen_users, gen_threads)
        db.session.remove()
        served = _snapshot(svc_users, svc_threads)
        assert generated == served
        assert any(hits for hits in generated["search"].values())
        deepest = max(p.depth for p in db.session.execute(select(Post)).scalars())
        assert deepest > app.config["FORUM_MAX_DEPTH"]
        _check_invariants()

    # The thread pages list the same posts, in the same tree order.
    orders = []
    for threads in (gen_threads, svc_threads):
        longest = max(range(len(plan.threads)), key=lambda n: len(plan.threads[n].parents))
        page = client.get(f"/threads/{threads[longest]}")
        assert page.status_code == 200
        ids = [int(i) for i in POST_ID_RE.findall(page.get_data(as_text=True))]
        with app.app_context():
            paths = {
                p.id: p.path
                for p in db.session.execute(select(Post).where(Post.id.in_(ids))).scalars()
            }
        orders.append([paths[i] for i in ids])
    assert orders[0] == orders[1]
    assert orders[0] == sorted(orders[0])


def test_generated_accounts_log_in(app, client):
    with app.app_context():
        report = bench.write_plan(bench.make_plan(40, users=3, seed=1, pool=5))
        username = f"lecteur{report.first_ids[0]}"
    response = client.post_form("/auth/login", {"login": username, "password": bench.PASSWORD})
    assert response.status_code == 302
    assert client.get("/").status_code == 200


def test_query_count_header_only_when_asked(make_app):
    counted = make_app(FORUM_QUERY_COUNT_HEADER=True).test_client()
    assert int(counted.get("/").headers["X-Query-Count"]) >= 1
    assert "X-Query-Count" not in make_app().test_client().get("/").headers
