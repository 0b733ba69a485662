"""Reactions and polls: toggling, who reacted, notifications; voting, closing, export."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from forum.accounts.models import User
from forum.db import utcnow, write_intent
from forum.debate import polls, services, summary
from forum.debate.models import Poll, PollVote, PollVoter
from forum.debate.queries import REACTION_CODES
from forum.discussions.models import Post, Thread
from forum.extensions import db, limiter
from forum.moderation.models import LogEntry
from forum.notifications.models import Notification
from tests.debate.conftest import reply_with, user_named
from tests.factories import make_thread, make_user


@pytest.fixture
def thread_and_post(app):
    alice, bruno = make_user(app, "alice"), make_user(app, "bruno")
    make_user(app, "chloe")
    thread = make_thread(app, alice, title="Le budget participatif")
    post = reply_with(app, bruno, thread, position="pour", body="Un budget ouvert à tous.")
    return thread, post


def test_react_toggles_counts_lists_and_notifies_once_an_hour(app, client, auth, thread_and_post):
    thread, post = thread_and_post
    auth.login("alice")
    response = client.post_form(f"/posts/{post.id}/react", {"reaction": "d_accord"})
    assert response.status_code == 302
    page = client.get(f"/threads/{thread.id}").get_data(as_text=True)
    assert 'value="d_accord" class="reaction-button" aria-pressed="true">d&#39;accord · 1' in page
    assert "<li>d&#39;accord : alice</li>" in page  # the <details> list
    client.post_form(f"/posts/{post.id}/react", {"reaction": "merci"})
    auth.logout()
    auth.login("chloe")
    client.post_form(f"/posts/{post.id}/react", {"reaction": "d_accord"})
    listing = client.get(f"/posts/{post.id}/reactions").get_data(as_text=True)
    assert "alice" in listing and "chloe" in listing and "(2)" in listing
    with app.app_context():
        told = db.session.execute(
            select(func.count()).where(
                Notification.post_id == post.id, Notification.kind == "reaction"
            )
        ).scalar_one()
        assert told == 1  # three reactions within the hour: one notification
    # Again: taken back.
    client.post_form(f"/posts/{post.id}/react", {"reaction": "d_accord"})
    page = client.get(f"/threads/{thread.id}").get_data(as_text=True)
    assert "<li>d&#39;accord : alice</li>" in page
    bad = client.post_form(f"/posts/{post.id}/react", {"reaction": "bravo"})
    assert bad.status_code == 400 and "Réaction inconnue" in bad.get_data(as_text=True)


def test_no_reaction_on_own_post_nor_when_silenced_nor_anonymous(
    app, client, auth, thread_and_post
):
    _thread, post = thread_and_post
    assert client.post_form(f"/posts/{post.id}/react", {"reaction": "merci"}).status_code == 302
    with app.app_context():
        assert db.session.execute(select(func.count()).select_from(Post)).scalar_one() == 2
    auth.login("bruno")
    assert client.post_form(f"/posts/{post.id}/react", {"reaction": "merci"}).status_code == 403
    auth.logout()
    with app.app_context():
        user_named("chloe").silenced_until = utcnow() + timedelta(days=2)
        db.session.commit()
    auth.login("chloe")
    refused = client.post_form(f"/posts/{post.id}/react", {"reaction": "merci"})
    assert refused.status_code == 403


def test_poll_created_voted_changed_closed_exported(app, client, auth, thread_and_post):
    thread, _post = thread_and_post
    auth.login("alice")
    form = {
        "question": "Quel montant consacrer au budget participatif ?",
        "options": "1 %\n\n3 %\n5 %\n",
        "results": "after_vote",
    }
    response = client.post_form(f"/threads/{thread.id}/poll/new", form)
    assert response.status_code == 302
    with app.app_context():
        poll = db.session.execute(select(Poll)).scalar_one()
        ids = [option.id for option in poll.options]
    assert len(ids) == 3
    too_few = client.post_form(f"/threads/{thread.id}/poll/new", dict(form, options="seul"))
    assert too_few.status_code == 400 and "entre 2 et 20 options" in too_few.get_data(as_text=True)
    auth.logout()
    auth.login("bruno")
    page = client.get(f"/polls/{poll.id}").get_data(as_text=True)
    assert "visibles après votre vote" in page
    client.post_form(f"/polls/{poll.id}/vote", {"option": str(ids[0])})
    client.post_form(f"/polls/{poll.id}/vote", {"option": str(ids[2])})  # changed
    page = client.get(f"/polls/{poll.id}").get_data(as_text=True)
    assert "1 voix (100 %)" in page and "1 votant·e" in page and "<svg" in page
    two = client.post_form(f"/polls/{poll.id}/vote", {"option": [str(ids[0]), str(ids[1])]})
    assert two.status_code == 400 and "un seul choix" in two.get_data(as_text=True)
    assert client.get(f"/polls/{poll.id}.csv").status_code == 403
    assert client.post_form(f"/polls/{poll.id}/close").status_code == 403
    auth.logout()
    auth.login("alice")
    csv = client.get(f"/polls/{poll.id}.csv").get_data(as_text=True)
    assert csv == "option,votes\n1 %,0\n3 %,0\n5 %,1\n"
    assert client.post_form(f"/polls/{poll.id}/close").status_code == 302
    with app.app_context():
        entry = db.session.execute(select(LogEntry).where(LogEntry.action == "poll:close")).scalar()
        assert entry is not None and entry.thread_id == thread.id
    auth.logout()
    auth.login("chloe")
    late = client.post_form(f"/polls/{poll.id}/vote", {"option": str(ids[1])})
    assert late.status_code == 403


def test_poll_closes_by_itself_at_its_date(app, thread_and_post):
    thread, _post = thread_and_post
    with app.app_context():
        poll = services.create_poll(
            user_named("alice"),
            db.session.get(Thread, thread.id),
            question="On se retrouve quand ?",
            options="mardi\njeudi",
            closes_at=utcnow() + timedelta(hours=1),
        )
        assert not poll.is_closed()
        assert poll.is_closed(utcnow() + timedelta(hours=2))


def test_one_vote_per_member_exact_under_concurrency(app, thread_and_post):
    thread, _post = thread_and_post
    voters = [make_user(app, f"votant{n}") for n in range(6)]
    with app.app_context():
        poll = services.create_poll(
            user_named("alice"),
            db.session.get(Thread, thread.id),
            question="Quelle priorité ?",
            options="logement\ntransport\nsanté",
            multiple=False,
        )
        poll_id, option_ids = poll.id, [option.id for option in poll.options]
    # Each member votes twice at once (two different options): one vote each remains.
    jobs = [(voter.id, option_ids[n % 3]) for voter in voters for n in range(2)]

    def vote(user_id: int, option_id: int):
        user, poll = db.session.get(User, user_id), polls.poll_or_none(poll_id)
        return lambda: services.vote(user, poll, [option_id])

    assert _at_once(app, [(vote, job) for job in jobs]) == []
    with app.app_context():
        assert db.session.execute(select(func.count()).select_from(PollVoter)).scalar_one() == 6
        votes = db.session.execute(
            select(PollVote.user_id, func.count()).group_by(PollVote.user_id)
        ).all()
        assert len(votes) == 6 and all(n == 1 for _user, n in votes)
        from forum.accounts.models import AnonymousUser

        results = polls.poll_results(polls.poll_or_none(poll_id), AnonymousUser())
        assert results.voters == 6 and sum(results.counts.values()) == 6


def test_reactions_are_rate_limited(make_app):
    app = make_app(FORUM_RATE_LIMITS="default")
    with app.app_context():
        limiter.reset()
    client = app.test_client()
    alice, bruno = make_user(app, "alice"), make_user(app, "bruno")
    thread = make_thread(app, alice)
    post = reply_with(app, bruno, thread, body="Une réponse à applaudir.")
    client.post_form("/auth/login", {"login": "alice", "password": "un mot de passe solide"})
    token = client.csrf_token()
    answers = [
        client.post(f"/posts/{post.id}/react", data={"csrf_token": token, "reaction": "merci"})
        for _ in range(31)
    ]
    assert [a.status_code for a in answers[:30]] == [302] * 30
    assert answers[30].status_code == 429


def test_polls_inline_on_the_thread_page_vote_there_results_per_setting(
    app, client, auth, thread_and_post
):
    thread, _post = thread_and_post
    with app.app_context():
        thread_row = db.session.get(Thread, thread.id)
        single = services.create_poll(
            user_named("alice"), thread_row, question="Quel montant ?", options="1 %\n5 %"
        )
        multiple = services.create_poll(
            user_named("alice"),
            thread_row,
            question="Quels quartiers ?",
            options="Nord\nSud\nCentre",
            multiple=True,
            results="after_vote",
        )
        single_id, multiple_id = single.id, multiple.id
        options = [option.id for option in multiple.options]
    anonymous = client.get(f"/threads/{thread.id}").get_data(as_text=True)
    assert f'id="poll-{single_id}"' in anonymous and f'id="poll-{multiple_id}"' in anonymous
    assert 'name="option"' not in anonymous and "csrf_token" not in anonymous
    assert "0 voix (0 %)" in anonymous  # "always": the bars, even empty
    assert "Les résultats seront visibles après votre vote." in anonymous
    auth.login("chloe")
    page = client.get(f"/threads/{thread.id}").get_data(as_text=True)
    section = page.split(f'id="poll-{multiple_id}"')[1].split("</section>")[0]
    assert section.count('type="checkbox" name="option"') == 3 and "bar-value" not in section
    assert page.split(f'id="poll-{single_id}"')[1].count('type="radio" name="option"') >= 2
    response = client.post_form(
        f"/polls/{multiple_id}/vote",
        {"option": [str(options[0]), str(options[2])], "from": "thread"},
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/threads/{thread.id}#poll-{multiple_id}")
    page = client.get(f"/threads/{thread.id}").get_data(as_text=True)
    section = page.split(f'id="poll-{multiple_id}"')[1].split("</section>")[0]
    assert section.count("1 voix (100 %)") == 2 and "0 voix (0 %)" in section
    assert section.count(" checked>") == 2 and "Changer mon vote" in section
    # Closed, a poll shows its results and no form any more.
    with app.app_context():
        services.close_poll(user_named("alice"), db.session.get(Poll, multiple_id))
    page = client.get(f"/threads/{thread.id}").get_data(as_text=True)
    section = page.split(f'id="poll-{multiple_id}"')[1].split("</section>")[0]
    assert 'name="option"' not in section and "clos" in section and "bar-value" in section


def test_a_vote_renews_the_cached_anonymous_thread_page(make_app):
    app = make_app(FORUM_PAGE_CACHE_SECONDS=60)
    alice, chloe = make_user(app, "alice"), make_user(app, "chloe")
    thread = make_thread(app, alice, title="Le marché du samedi")
    with app.app_context():
        poll = services.create_poll(
            user_named("alice"),
            db.session.get(Thread, thread.id),
            question="Quelle heure ?",
            options="8 h\n9 h",
        )
        poll_id, first = poll.id, poll.options[0].id
    reader = app.test_client()
    reader.get(f"/threads/{thread.id}")
    cached = reader.get(f"/threads/{thread.id}")
    assert cached.headers["X-Page-Cache"] == "hit" and "1 voix" not in cached.get_data(True)
    with app.app_context():
        services.vote(db.session.get(type(chloe), chloe.id), poll_or_404(poll_id), [first])
    fresh = reader.get(f"/threads/{thread.id}")
    assert fresh.headers["X-Page-Cache"] == "miss"
    assert "1 voix (100 %)" in fresh.get_data(as_text=True)


def poll_or_404(poll_id: int) -> Poll:
    return polls.poll_or_none(poll_id)


def test_who_reacted_is_kept_on_the_post_in_order(app, client, auth, thread_and_post):
    """The post's summary follows every reaction given and taken back: kinds in their
    order, names sorted whatever their case; the thread page shows what it says."""
    thread, post = thread_and_post
    make_user(app, "Zoe")
    with app.app_context():
        for name, kind in (("chloe", "merci"), ("Zoe", "d_accord"), ("alice", "d_accord")):
            services.toggle_reaction(user_named(name), db.session.get(Post, post.id), kind)
        kept = db.session.get(Post, post.id).reaction_summary
        assert kept == "d_accord=2;merci=1|d_accord=alice,Zoe;merci=chloe"
        services.toggle_reaction(user_named("chloe"), db.session.get(Post, post.id), "merci")
        assert db.session.get(Post, post.id).reaction_summary == "d_accord=2|d_accord=alice,Zoe"
    assert summary.KINDS == REACTION_CODES
    page = client.get(f"/threads/{thread.id}").get_data(as_text=True)
    assert "<summary>d&#39;accord · 2</summary>" in page  # a visitor's: the counts open who
    assert "<ul><li>d&#39;accord : alice, Zoe</li></ul>" in page and "merci · " not in page
    with app.app_context():
        for name in ("alice", "Zoe"):
            services.toggle_reaction(user_named(name), db.session.get(Post, post.id), "d_accord")
        assert db.session.get(Post, post.id).reaction_summary is None
    assert "Qui a réagi" not in client.get(f"/threads/{thread.id}").get_data(as_text=True)


def test_members_reacting_at_once_all_stay_on_the_post(app, thread_and_post):
    _thread, post = thread_and_post
    reactors = [make_user(app, f"reactif{n}") for n in range(6)]

    def react(user_id: int):
        user, target = db.session.get(User, user_id), db.session.get(Post, post.id)
        return lambda: services.toggle_reaction(user, target, "bien_vu")

    assert _at_once(app, [(react, (user.id,)) for user in reactors]) == []
    with app.app_context():
        kept = db.session.get(Post, post.id).reaction_summary
        assert kept == "bien_vu=6|bien_vu=" + ",".join(f"reactif{n}" for n in range(6))


def test_the_migration_writes_who_reacted_on_existing_posts(app, thread_and_post):
    from flask_migrate import downgrade, upgrade

    _thread, post = thread_and_post
    with app.app_context():
        services.toggle_reaction(user_named("chloe"), db.session.get(Post, post.id), "merci")
        services.toggle_reaction(user_named("alice"), db.session.get(Post, post.id), "merci")
        db.session.remove()
        downgrade(revision="0016_debate")
        try:
            upgrade(revision="0017_reaction_summary")
        finally:
            upgrade()
        assert kept_summary(post.id) == "merci=2|merci=alice,chloe"
        downgrade(revision="0017_reaction_summary")  # back to one line per kind
        try:
            assert kept_summary(post.id) == "merci\t2\talice\tchloe"
        finally:
            upgrade()
        assert kept_summary(post.id) == "merci=2|merci=alice,chloe"


def kept_summary(post_id: int) -> str | None:
    db.session.remove()
    try:
        return db.session.scalar(select(Post.reaction_summary).where(Post.id == post_id))
    finally:
        db.session.remove()  # its read would hold off the next migration altering posts


def test_the_reactions_a_reader_gave_are_pressed_and_only_theirs(
    app, client, auth, thread_and_post
):
    """Told from the post's list of names: "ali" is not "alice"."""
    thread, post = thread_and_post
    make_user(app, "ali")
    with app.app_context():
        services.toggle_reaction(user_named("alice"), db.session.get(Post, post.id), "d_accord")
        services.toggle_reaction(user_named("ali"), db.session.get(Post, post.id), "merci")
    auth.login("ali")
    page = client.get(f"/threads/{thread.id}").get_data(as_text=True)
    assert 'value="d_accord" class="reaction-button" aria-pressed="false">d&#39;accord · 1' in page
    assert 'value="merci" class="reaction-button" aria-pressed="true">merci · 1' in page
    assert 'value="bien_vu" class="reaction-button" aria-pressed="false">bien vu<' in page


def _at_once(app, calls) -> list[BaseException]:
    """Each ``(read, args)`` in its own thread: ``read(*args)`` in an app context returns
    the write to make; the writes start together, each as in a POST request (on SQLite
    the transaction begins IMMEDIATE). Returns what they raised."""
    barrier = threading.Barrier(len(calls), timeout=30)
    errors: list[BaseException] = []

    def run(read, args) -> None:
        try:
            with app.app_context():
                write = read(*args)
                db.session.commit()  # end the read: the write starts its own transaction
                barrier.wait()
                with write_intent():
                    write()
        except BaseException as exc:
            errors.append(exc)
        finally:
            with app.app_context():
                db.session.remove()

    workers = [threading.Thread(target=run, args=call) for call in calls]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    return errors
