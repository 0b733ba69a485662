"""Every page read costs a small, fixed number of SQL statements, whatever the forum holds.

Each page is read twice — on a small forum, then after much more content was added —
as an anonymous reader and as a logged-in member: the counts must be the pinned ones
both times, never above ten. A plain page view writes nothing, except, for a member on
a thread page, the one upsert of their read position (``thread_states``).
"""

from __future__ import annotations

import pytest
from sqlalchemy import event, select

from forum.accounts.models import User
from forum.extensions import db
from forum.news import services as news
from tests.factories import make_thread, make_tree, make_user, search_candidate_reads

#: (anonymous, member) statements per page, read a second time (the read position already
#: moved). The member's extra ones: their user row, then their read positions, watches
#: and the like as the page needs them (on a thread page, in the statement that loads the
#: thread and says whether it has seminar links, splits, polls or a synthesis: none
#: here, so none of those is looked up). A branch page also loads the branch's post and its
#: ancestors. The debate costs a thread page one statement at most: none here on the
#: branch page, whose replies are all on it and which nobody reacted to.
BUDGETS = {
    "/": (4, 6),
    "/themes/services-publics": (2, 5),
    "/themes/services-publics?page=2": (2, 5),
    "/threads/{thread}": (3, 4),
    "/threads/{thread}/branch/{branch}": (5, 7),
    "/users/auteur": (4, 6),  # + the member's organisations; member: whether they blocked them
    "/search?q=logement": (4, 5),
    "/feeds/latest.atom": (2, 3),
    "/feeds/themes/services-publics.atom": (3, 4),
    "/feeds/threads/{thread}.atom": (2, 3),
    "/news": (2, 3),
    "/news/{news}": (1, 2),
    "/unread": (None, 2),
    "/following": (None, 3),
    "/notifications": (None, 3),
}
WRITE_VERBS = {"INSERT", "UPDATE", "DELETE"}


def _add_content(app, author, rounds: int) -> dict[str, int]:
    """Threads, replies (one deep branch), news: ``rounds`` times more of each."""
    ids = {}
    for n in range(rounds):
        thread = make_thread(
            app, author, "services-publics", f"Le logement social, épisode {n}", "Du logement."
        )
        chain = make_tree(app, author, thread, [2, 1, 1, 1, 1, 1, 1, 1])
        ids = {"thread": thread.id, "branch": chain[-3].id}
    for n in range(rounds * 30):
        make_thread(app, author, "services-publics", f"Un sujet de plus n°{n}", f"Texte {n}.")
    with app.app_context():
        admin = db.session.execute(select(User).where(User.username == "coordination")).scalar()
        for n in range(rounds):
            item = news.publish(admin, f"Une actualité n°{n}", f"Le logement, encore ({n}).")
        ids["news"] = item.id
    return ids


def _counts(client, query_counter, ids: dict[str, int], member: bool) -> dict[str, int]:
    counts = {}
    for pattern, budget in BUDGETS.items():
        if budget[member] is None:
            continue
        url = pattern.format(**ids)
        client.get(url)  # a first visit may move the read position; the second is plain
        with query_counter() as counter:
            response = client.get(url)
        assert response.status_code == 200, url
        writes = [s for s in counter.statements if s.lstrip().split(None, 1)[0] in WRITE_VERBS]
        assert writes == [], (url, writes)
        counts[pattern] = counter.count
    return counts


@pytest.mark.parametrize("member", [False, True], ids=["anonymous", "member"])
def test_every_page_costs_pinned_queries_whatever_the_forum_holds(
    app, client, auth, query_counter, member
):
    author = make_user(app, "auteur")
    make_user(app, "coordination", role="admin")
    make_user(app, "lecteur")
    ids = _add_content(app, author, 1)
    if member:
        auth.login("lecteur")
        with query_counter() as first_visit:
            client.get(f"/threads/{ids['thread']}")
        writes = [s for s in first_visit.statements if s.lstrip().split(None, 1)[0] in WRITE_VERBS]
        assert len(writes) == 1 and "thread_states" in writes[0]
    small = _counts(client, query_counter, ids, member)
    ids = _add_content(app, author, 3)
    large = _counts(client, query_counter, ids, member)

    pinned = {url: budget[member] for url, budget in BUDGETS.items() if budget[member]}
    pinned["/search?q=logement"] += search_candidate_reads(app)
    assert small == pinned
    assert large == pinned
    assert max(large.values()) <= 10


#: Anonymous pages served from the page cache: one statement (the page's version).
CACHED_PAGES = [
    "/",
    "/themes/services-publics",
    "/themes/services-publics?page=2",
    "/threads/{thread}",
    "/threads/{thread}/branch/{branch}",
    "/feeds/latest.atom",
    "/feeds/themes/services-publics.atom",
    "/feeds/threads/{thread}.atom",
]


def test_a_cached_anonymous_page_costs_one_statement_and_a_stored_one_one_more(make_app):
    app = make_app(FORUM_PAGE_CACHE_SECONDS=60)
    author = make_user(app, "auteur")
    make_user(app, "coordination", role="admin")
    ids = _add_content(app, author, 2)
    client = app.test_client()
    statements: list[str] = []

    def record(_conn, _cursor, statement, *_args):
        if statement.lstrip().split(None, 1)[0].upper() in {"SELECT", "INSERT", "UPDATE", "DELETE"}:
            statements.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        for pattern in CACHED_PAGES:
            url = pattern.format(**ids)
            live = BUDGETS.get(pattern, (None,))[0]
            statements.clear()
            first = client.get(url)
            assert (first.status_code, first.headers["X-Page-Cache"]) == (200, "miss"), url
            if live is not None:  # the live page and its version
                assert len(statements) == live + 1, (url, statements)
            statements.clear()
            second = client.get(url)
            assert second.headers["X-Page-Cache"] == "hit", url
            assert len(statements) == 1 and "page_versions" in statements[0], url
            statements.clear()
            again = client.get(url, headers={"If-None-Match": second.headers["ETag"]})
            assert again.status_code == 304 and len(statements) == 1, url
    finally:
        event.remove(engine, "before_cursor_execute", record)
