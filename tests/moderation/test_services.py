"""Moderation services: reports and auto-hide, the queue, hide/restore, threads, sanctions, words.

Concurrency tests run on both databases: many members reporting one post at once hide it
exactly once; two moderators deciding on one report end with one outcome.
"""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from forum.accounts.models import User
from forum.discussions.models import Post, Theme, Thread
from forum.extensions import db
from forum.moderation import reports, sanctions, services, words
from forum.moderation.models import AppendOnlyError, LogEntry, Report
from forum.refusals import Refused
from tests.factories import PASSWORD, login, make_reply, make_thread, make_user, opening_post


def _get(model, ident):
    return db.session.get(model, getattr(ident, "id", ident))


def _log(app, action: str | None = None) -> list[LogEntry]:
    with app.app_context():
        stmt = select(LogEntry).order_by(LogEntry.id)
        if action:
            stmt = stmt.where(LogEntry.action == action)
        rows = list(db.session.execute(stmt).scalars())
        for row in rows:
            db.session.expunge(row)
        return rows


@pytest.fixture
def people(app):
    return {
        "alice": make_user(app, "alice"),
        "bob": make_user(app, "bob"),
        "modo": make_user(app, "modo", role="moderator"),
        "modo2": make_user(app, "modo2", role="moderator"),
    }


# -- reports --------------------------------------------------------------------------------


def test_report_once_per_member_and_never_ones_own(app, people):
    thread = make_thread(app, people["alice"])
    post = make_reply(app, people["alice"], thread)
    with app.app_context():
        bob, post_row = _get(User, people["bob"]), _get(Post, post)
        reports.report_post(bob, post_row, "spam")
        with pytest.raises(Refused, match="déjà signalé"):
            reports.report_post(bob, _get(Post, post), "off_topic")
        with pytest.raises(Refused, match="autre"):
            reports.report_post(_get(User, people["modo"]), _get(Post, post), "other", "")
        from werkzeug.exceptions import Forbidden

        with pytest.raises(Forbidden):
            reports.report_post(_get(User, people["alice"]), _get(Post, post), "spam")
        assert db.session.execute(select(func.count()).select_from(Report)).scalar() == 1
        assert _get(Post, post).open_report_count == 1


def test_threshold_hides_once_and_dismiss_restores(make_app):
    app = make_app(FORUM_REPORT_HIDE_THRESHOLD=2)
    author = make_user(app, "autrice")
    reporters = [make_user(app, f"lecteur{i}") for i in range(3)]
    modo = make_user(app, "modo", role="moderator")
    thread = make_thread(app, author)
    post = make_reply(app, author, thread)
    with app.app_context():
        reports.report_post(_get(User, reporters[0]), _get(Post, post), "spam")
        assert _get(Post, post).hidden_at is None
        reports.report_post(_get(User, reporters[1]), _get(Post, post), "abuse")
        assert _get(Post, post).hidden_at is not None
        assert "2 signalements" in _get(Post, post).hidden_reason
        items = reports.queue(_get(User, modo))
        assert [(i.kind, len(i.reports)) for i in items] == [("post", 2)]
        reports.decide_post(_get(User, modo), _get(Post, post), "dismiss", "Rien de grave")
        restored = _get(Post, post)
        assert restored.hidden_at is None and restored.open_report_count == 0
        assert reports.queue(_get(User, modo)) == []
        statuses = db.session.execute(select(Report.status)).scalars().all()
        assert statuses == ["dismissed", "dismissed"]
    assert [e.action for e in _log(app)] == ["post:auto-hide", "report:dismiss"]


def test_second_moderator_is_told_it_was_handled(app, people):
    thread = make_thread(app, people["alice"])
    post = make_reply(app, people["alice"], thread)
    with app.app_context():
        reports.report_post(_get(User, people["bob"]), _get(Post, post), "spam")
        reports.decide_post(_get(User, people["modo"]), _get(Post, post), "hide", "Spam avéré")
        with pytest.raises(Refused, match="déjà été traité"):
            reports.decide_post(_get(User, people["modo2"]), _get(Post, post), "dismiss", "Non")
        assert _get(Post, post).hidden_at is not None
    assert len(_log(app, "report:uphold")) == 1
    assert _log(app, "report:dismiss") == []


def _login_client(app, username):
    client = app.test_client()
    login(client, username)
    return client, client.csrf_token()


def test_many_members_reporting_at_once_hide_the_post_once(make_app):
    app = make_app(FORUM_REPORT_HIDE_THRESHOLD=3)
    author = make_user(app, "autrice")
    reporters = [make_user(app, f"lecteur{i}") for i in range(8)]
    thread = make_thread(app, author)
    post = make_reply(app, author, thread)
    clients = [_login_client(app, user.username) for user in reporters]
    barrier = threading.Barrier(len(clients), timeout=30)
    answers: list[int] = []

    def report(client, token):
        barrier.wait()
        response = client.post(
            f"/posts/{post.id}/report", data={"reason": "spam", "csrf_token": token}
        )
        answers.append(response.status_code)

    workers = [threading.Thread(target=report, args=pair) for pair in clients]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)

    # Those who came after the auto-hide are refused (a hidden post cannot be reported).
    assert len(answers) == len(clients), answers
    assert set(answers) <= {302, 403}, answers
    with app.app_context():
        stored = db.session.execute(select(func.count()).select_from(Report)).scalar()
        row = _get(Post, post)
        assert stored == answers.count(302) >= 3
        assert row.open_report_count == stored
        assert row.hidden_at is not None
    assert len(_log(app, "post:auto-hide")) == 1


def test_two_moderators_on_one_report_end_with_one_outcome(app, people):
    thread = make_thread(app, people["alice"])
    post = make_reply(app, people["alice"], thread)
    with app.app_context():
        reports.report_post(_get(User, people["bob"]), _get(Post, post), "spam")
    clients = [_login_client(app, name) for name in ("modo", "modo2")]
    barrier = threading.Barrier(2, timeout=30)
    flashes: list[str] = []

    def decide(client, token, decision):
        barrier.wait()
        client.post(
            f"/moderation/posts/{post.id}/decide",
            data={"decision": decision, "reason": "Décision", "csrf_token": token},
        )
        flashes.append(client.get("/moderation/").get_data(as_text=True))

    workers = [
        threading.Thread(target=decide, args=(*clients[0], "hide")),
        threading.Thread(target=decide, args=(*clients[1], "dismiss")),
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)

    assert len(flashes) == 2
    assert sum("déjà été traité" in page for page in flashes) == 1
    decisions = _log(app, "report:uphold") + _log(app, "report:dismiss")
    assert len(decisions) == 1
    with app.app_context():
        status = db.session.execute(select(Report.status)).scalar_one()
        assert (status == "upheld") is (decisions[0].action == "report:uphold")


# -- hide / restore and leaks ---------------------------------------------------------------


def test_hidden_post_is_a_placeholder_for_others_and_absent_from_listings(app, people, client):
    thread = make_thread(app, people["alice"], title="Fil où un message sera masqué")
    post = make_reply(app, people["alice"], thread, body="Un propos SECRETMASQUE ici.")
    with app.app_context():
        services.hide(_get(User, people["modo"]), _get(Post, post), "Propos injurieux")
    for viewer in (None, "bob"):
        if viewer:
            login(client, viewer)
        page = client.get(f"/threads/{thread.id}").get_data(as_text=True)
        assert "SECRETMASQUE" not in page
        assert "message masqué par la modération" in page
        assert "SECRETMASQUE" not in client.get("/users/alice").get_data(as_text=True)
        quote = client.get(f"/threads/{thread.id}/reply?quote={post.id}").get_data(as_text=True)
        assert "SECRETMASQUE" not in quote
        branch = client.get(f"/threads/{thread.id}/reply?parent_id={post.id}")
        assert "SECRETMASQUE" not in branch.get_data(as_text=True)
    client.post_form("/auth/logout")
    for reader in ("alice", "modo"):
        login(client, reader)
        page = client.get(f"/threads/{thread.id}").get_data(as_text=True)
        assert "SECRETMASQUE" in page and "Propos injurieux" in page
        client.post_form("/auth/logout")


def test_hidden_opening_post_hides_the_thread_from_theme_and_home(app, people, client):
    thread = make_thread(app, people["alice"], title="Un fil à masquer entièrement")
    with app.app_context():
        services.hide(_get(User, people["modo"]), _get(Post, opening_post(app, thread)), "Spam")
    for url in ("/", "/themes/services-publics", "/users/alice"):
        assert "Un fil à masquer entièrement" not in client.get(url).get_data(as_text=True), url
    assert client.get(f"/threads/{thread.id}").status_code == 403
    login(client, "modo")
    assert "Un fil à masquer" in client.get("/themes/services-publics").get_data(as_text=True)


def test_hide_twice_and_restore(app, people):
    thread = make_thread(app, people["alice"])
    post = make_reply(app, people["alice"], thread)
    from werkzeug.exceptions import Forbidden

    with app.app_context():
        with pytest.raises(Refused, match="raison"):
            services.hide(_get(User, people["modo2"]), _get(Post, post), "")
        services.hide(_get(User, people["modo"]), _get(Post, post), "Hors charte")
        with pytest.raises(Forbidden):  # the page no longer offers it
            services.hide(_get(User, people["modo2"]), _get(Post, post), "Encore")
        services.restore(_get(User, people["modo2"]), _get(Post, post), "Erreur")
        assert _get(Post, post).hidden_at is None
    assert [e.action for e in _log(app)] == ["post:hide", "post:restore"]


def test_log_is_append_only(app, people):
    thread = make_thread(app, people["alice"])
    with app.app_context():
        services.lock(_get(User, people["modo"]), _get(Thread, thread))
        entry = db.session.execute(select(LogEntry)).scalar_one()
        entry.reason = "réécrit"
        with pytest.raises(AppendOnlyError):
            db.session.commit()
        db.session.rollback()
        db.session.delete(db.session.execute(select(LogEntry)).scalar_one())
        with pytest.raises(AppendOnlyError):
            db.session.commit()


# -- threads --------------------------------------------------------------------------------


def test_lock_pin_move_with_counters(app, people, client):
    thread = make_thread(app, people["alice"])
    make_reply(app, people["bob"], thread)
    with app.app_context():
        modo = _get(User, people["modo"])
        services.lock(modo, _get(Thread, thread))
        with pytest.raises(Refused):
            services.lock(modo, _get(Thread, thread))
        services.pin(modo, _get(Thread, thread))
        urbain = db.session.execute(select(Theme).where(Theme.slug == "urbain")).scalar_one()
        services.move(modo, _get(Thread, thread), urbain, "Mieux rangé")
        counts = dict(db.session.execute(select(Theme.slug, Theme.post_count)).all())
        assert counts == {"services-publics": 0, "urbain": 2, "developpement-local": 0}
    page = client.get(f"/threads/{thread.id}").get_data(as_text=True)
    assert "verrouillé" in page
    assert [e.action for e in _log(app)] == ["thread:lock", "thread:pin", "thread:move"]


def test_theme_moderator_cannot_move_out_of_their_themes(app, people):
    thread = make_thread(app, people["alice"])
    with app.app_context():
        theme = db.session.execute(select(Theme).where(Theme.slug == "services-publics"))
        theme = theme.scalar_one()
        services.set_role(None, _get(User, people["bob"]), "moderator", theme)
        urbain = db.session.execute(select(Theme).where(Theme.slug == "urbain")).scalar_one()
        with pytest.raises(Refused, match="ne modérez pas"):
            services.move(_get(User, people["bob"]), _get(Thread, thread), urbain)
        assert _get(Thread, thread).theme_id == theme.id


def test_merge_keeps_every_post_and_redirects(app, people, client):
    target = make_thread(app, people["alice"], title="Le fil d'arrivée")
    make_reply(app, people["bob"], target)
    source = make_thread(app, people["bob"], title="Le fil fusionné")
    first = make_reply(app, people["alice"], source)
    make_reply(app, people["bob"], source, parent=first)
    with app.app_context():
        services.merge(_get(User, people["modo"]), _get(Thread, source), _get(Thread, target))
        posts = db.session.execute(
            select(Post).where(Post.thread_id == target.id).order_by(Post.path)
        ).scalars()
        shape = [(p.depth, p.path) for p in posts]
        assert shape == [
            (0, ""),
            (1, "000001"),
            (1, "000002"),
            (2, "000002000001"),
            (3, "000002000001000001"),
        ]
        assert _get(Thread, target).reply_count == 4
        assert _get(Thread, source).merged_into_id == target.id
    response = client.get(f"/threads/{source.id}")
    assert response.status_code == 301
    assert response.headers["Location"].endswith(f"/threads/{target.id}")
    home = client.get("/").get_data(as_text=True)
    assert "Le fil fusionné" not in home
    (entry,) = _log(app, "thread:merge")
    assert entry.details_dict["into_thread"] == target.id
    assert len(entry.details_dict["post_ids"]) == 3


def test_split_makes_a_branch_a_thread_linked_both_ways(app, people, client):
    thread = make_thread(app, people["alice"], title="Le fil d'origine")
    branch = make_reply(app, people["bob"], thread)
    make_reply(app, people["alice"], thread, parent=branch)
    make_reply(app, people["alice"], thread)
    with app.app_context():
        new = services.split(_get(User, people["modo"]), _get(Post, branch), "Une branche à part")
        new_id = new.id
        assert _get(Thread, thread).reply_count == 1
        assert _get(Thread, new_id).reply_count == 1
        moved = db.session.execute(
            select(Post.depth, Post.path).where(Post.thread_id == new_id).order_by(Post.path)
        ).all()
        assert [tuple(r) for r in moved] == [(0, ""), (1, "000001")]
    old_page = client.get(f"/threads/{thread.id}").get_data(as_text=True)
    new_page = client.get(f"/threads/{new_id}").get_data(as_text=True)
    assert f'href="/threads/{new_id}"' in old_page
    assert f'href="/threads/{thread.id}"' in new_page
    assert _log(app, "post:split")[0].details_dict["new_thread"] == new_id


# -- sanctions ------------------------------------------------------------------------------


def test_suspension_ends_sessions_and_refuses_login_with_reason(app, people, client):
    login(client, "alice")
    assert client.get("/settings").status_code == 200
    with app.app_context():
        sanctions.sanction(
            _get(User, people["modo"]), _get(User, people["alice"]), "suspend", 7, "Harcèlement"
        )
    assert client.get("/settings").status_code == 302  # the open session ended
    response = client.post_form("/auth/login", {"login": "alice", "password": PASSWORD})
    html = response.get_data(as_text=True)
    assert response.status_code == 403
    assert "suspendu" in html and "Harcèlement" in html and "jusqu" in html
    with app.app_context():
        sanctions.lift(_get(User, people["modo"]), _get(User, people["alice"]), "Apaisement")
    response = client.post_form("/auth/login", {"login": "alice", "password": PASSWORD})
    assert response.status_code == 302


def test_ban_and_rules_on_sanctions(app, people):
    admin = make_user(app, "chef", role="admin")
    with app.app_context():
        modo = _get(User, people["modo"])
        sanctions.sanction(modo, _get(User, people["bob"]), "ban", None, "Spam massif")
        assert _get(User, people["bob"]).is_suspended
        with pytest.raises(Refused, match="durée"):
            sanctions.sanction(modo, _get(User, people["alice"]), "silence", None, "Trop")
        from werkzeug.exceptions import Forbidden

        with pytest.raises(Forbidden):
            sanctions.sanction(modo, _get(User, admin), "warn", None, "Non")
        with pytest.raises(Forbidden):
            sanctions.sanction(modo, modo, "warn", None, "Moi")
    assert [e.action for e in _log(app)] == ["user:ban"]


# -- roles ----------------------------------------------------------------------------------


def test_set_role_command_with_theme(app, runner, people):
    result = runner.invoke(args=["forum", "set-role", "bob", "moderator", "--theme", "urbain"])
    assert result.exit_code == 0, result.output
    assert "Urbain" in result.output
    result = runner.invoke(args=["forum", "set-role", "bob", "moderator", "--theme", "nulle"])
    assert result.exit_code != 0 and "Aucun thème" in result.output
    with app.app_context():
        from forum.permissions import moderation_scope

        bob = _get(User, people["bob"])
        urbain = db.session.execute(select(Theme.id).where(Theme.slug == "urbain")).scalar()
        assert moderation_scope(bob) == frozenset({urbain})


def test_admin_page_assigns_theme_moderators(app, client, people):
    make_user(app, "chef", role="admin")
    login(client, "chef")
    response = client.post_form("/admin/moderators", {"username": "alice", "theme": "urbain"})
    assert response.status_code == 302
    page = client.get("/admin/moderators").get_data(as_text=True)
    assert "alice" in page and "Urbain" in page
    client.post_form("/auth/logout")
    login(client, "modo")
    assert client.get("/admin/moderators").status_code == 403


# -- watched words and pre-moderation ---------------------------------------------------------


def test_watched_words_fold_accents_case_and_whole_words(app, people):
    with app.app_context():
        modo = _get(User, people["modo"])
        words.add(modo, "Arnaque", "block")
        words.add(modo, "crétin", "replace")
        words.add(modo, "vote payé", "review")
        with pytest.raises(Refused, match="« Arnaque »"):
            words.check("Quelle ARNAQUE !")
        assert words.check("Les arnaqueurs")[1] is False  # whole words only
        text, review = words.check("Un CRETIN et un Crétin.")
        assert text == "Un ■■■■■■ et un ■■■■■■." and review is False
        assert words.check("un Vote   PAYÉ ici")[1] is True
        assert words.check("(a+)+$" * 1000 + "!")[1] is False  # escaped: no pathological regex


def test_premoderation_first_posts_wait(make_app):
    app = make_app(FORUM_PREMODERATION_POSTS=1)
    alice = make_user(app, "alice")
    modo = make_user(app, "modo", role="moderator")
    thread = make_thread(app, modo)
    post = make_reply(app, alice, thread, body="Mon tout premier message.")
    with app.app_context():
        assert _get(Post, post).pending_at is not None
        (item,) = reports.queue(_get(User, modo))
        assert item.kind == "pending"
        reports.decide_pending(_get(User, modo), _get(Post, post), True, "")
        assert _get(Post, post).pending_at is None
    second = make_reply(app, alice, thread, body="Le deuxième passe directement.")
    with app.app_context():
        assert _get(Post, second).pending_at is None
