"""The thread page with positions, reactions, a poll and a published synthesis costs a fixed
number of statements, whatever the thread holds."""

from __future__ import annotations

import pytest

from forum.debate import services, synthesis
from forum.discussions.models import Post, Thread
from forum.extensions import db
from tests.debate.conftest import reply_with, user_named
from tests.factories import make_thread, make_user

#: Pinned: (anonymous, member). Beyond the plain thread page read again (2, 3): one
#: statement for the thread's polls and synthesis (it has some), one for the posts the
#: published synthesis cites, one for the polls' options, votes and the reader's own.
#: Who reacted, the reader included, comes with the posts; positions are counted from
#: the page, all replies being on it.
PAGE_QUERIES = {"anonymous": 5, "member": 6}


def _debate(app, size: int):
    authors = [make_user(app) for _ in range(4)]
    thread = make_thread(app, authors[0])
    posts = []
    for n in range(size):
        parent = posts[n // 3] if n >= 3 else None
        author = authors[1 + n % 3]
        if parent is not None and parent.author_id == author.id:
            author = authors[0]
        posts.append(reply_with(app, author, thread, parent, ("pour", "contre", "nuance")[n % 3]))
    with app.app_context():
        thread_row = db.session.get(Thread, thread.id)
        for n, post in enumerate(posts):
            for reactor in authors[:2]:
                if reactor.id != post.author_id:
                    services.toggle_reaction(
                        db.session.get(type(reactor), reactor.id),
                        db.session.get(Post, post.id),
                        ("d_accord", "merci", "bien_vu")[n % 3],
                    )
        services.create_poll(
            user_named(authors[0].username), thread_row, question="Pour ou contre ?", options="a\nb"
        )
        moderator = make_user(app, role="moderator")
        found = synthesis.save(
            db.session.get(type(moderator), moderator.id),
            db.session.get(Thread, thread.id),
            consensus="\n".join(f"- Point [[post:{post.id}]]" for post in posts[:8]),
        )
        synthesis.publish(db.session.get(type(moderator), moderator.id), found)
    return thread


@pytest.mark.parametrize("viewer", list(PAGE_QUERIES))
def test_thread_page_with_debate_costs_pinned_queries(app, client, auth, query_counter, viewer):
    small, large = _debate(app, 6), _debate(app, 60)
    if viewer == "member":
        make_user(app, "lectrice")
        auth.login("lectrice")
    counts = []
    for thread in (small, large):
        client.get(f"/threads/{thread.id}")
        with query_counter() as counter:
            page = client.get(f"/threads/{thread.id}").get_data(as_text=True)
        assert "citation-excerpt" in page and "who-reacted" in page and "Sondage" in page
        assert 'class="bar-value"' in page  # the poll's results, inline
        counts.append(counter.count)
    assert counts == [PAGE_QUERIES[viewer]] * 2


def test_session_page_shows_follow_up_syntheses_at_constant_queries(app, client, query_counter):
    from forum.accounts.models import User
    from forum.seminars import services as seminars
    from forum.seminars.models import Session
    from tests.seminars.test_seminars import make_seminar, make_session

    organiser = make_user(app, "orga", role="admin")
    seminar_id = make_seminar(app, organiser, days=-2)
    session_id = make_session(app, organiser, seminar_id)
    counts = []
    for round_ in range(2):
        for n in range(1 + 2 * round_):
            thread = make_thread(app, organiser, "urbain", title=f"Suite {round_}-{n} de la séance")
            post = reply_with(app, make_user(app), thread, body=f"Un avis {round_}-{n}.")
            with app.app_context():
                admin = db.session.get(User, organiser.id)
                thread_row = db.session.get(Thread, thread.id)
                seminars.link_thread(admin, db.session.get(Session, session_id), thread_row,
                                     "follow_up")  # fmt: skip
                found = synthesis.save(admin, thread_row, consensus=f"- Oui [[post:{post.id}]]")
                synthesis.publish(admin, found)
        with query_counter() as counter:
            page = client.get(f"/sessions/{session_id}").get_data(as_text=True)
        assert page.count("citation-excerpt") == (1 if round_ == 0 else 4)
        counts.append(counter.count)
    # The session and its links (2 for an anonymous reader), the syntheses, their cited posts.
    assert counts[0] == counts[1] == 4
