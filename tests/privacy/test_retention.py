"""``flask forum purge``: what outlived its period goes, choices and fresh data stay."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select, update

from forum.db import utcnow
from forum.extensions import db
from forum.notifications.models import Notification, OutboxMail, ThreadState
from tests.factories import make_reply, make_thread, make_user


def _count(model) -> int:
    return db.session.execute(select(func.count()).select_from(model)).scalar()


def _age_everything(days: int) -> None:
    then = utcnow() - timedelta(days=days)
    db.session.execute(update(OutboxMail).values(sent_at=then))
    db.session.execute(update(Notification).values(read_at=then))
    db.session.execute(update(ThreadState).values(updated_at=then))
    db.session.commit()


def _setup(app):
    alice, bruno = make_user(app, "alice"), make_user(app, "bruno")
    thread = make_thread(app, alice)  # alice watches it (automatic watch)
    make_reply(app, bruno, thread)  # notifies alice, bruno watches too
    with app.app_context():
        # carole only read the thread: a read position, no watch.
        carole = make_user(app, "carole")
        db.session.add(ThreadState(user_id=carole.id, thread_id=thread.id, last_read_post_id=1))
        db.session.commit()
    return alice, bruno, thread


def test_purge_deletes_what_outlived_its_period_and_keeps_the_rest(app, runner):
    _setup(app)
    with app.app_context():
        db.session.execute(update(OutboxMail).values(sent_at=utcnow()))
        db.session.commit()
        mails, states = _count(OutboxMail), _count(ThreadState)
        assert mails >= 1 and _count(Notification) == 1 and states == 3

        result = runner.invoke(args=["forum", "purge"])
        assert result.exit_code == 0, result.output
        # Nothing is old yet; an unread notification is never purged.
        assert (_count(OutboxMail), _count(Notification), _count(ThreadState)) == (mails, 1, 3)

        _age_everything(400)
        result = runner.invoke(args=["forum", "purge"])
        assert result.exit_code == 0, result.output
        assert f"{mails} e-mail(s)" in result.output
        assert _count(OutboxMail) == 0
        assert _count(Notification) == 0
        # The two watches are choices and stay; carole's bare read position goes.
        levels = db.session.execute(select(ThreadState.level)).scalars().all()
        assert levels == ["watching", "watching"]

        again = runner.invoke(args=["forum", "purge"])
        assert (
            "0 e-mail(s) envoyé(s), 0 notification(s) lue(s), 0 position(s) de lecture, 0 tâche(s) finie(s), 0 fichier(s)"
            in again.output
        )


def test_periods_are_settings(make_app):
    app = make_app(FORUM_OUTBOX_KEEP_DAYS=1, FORUM_NOTIFICATION_RETENTION_DAYS=1000)
    _setup(app)
    with app.app_context():
        unsent = _count(OutboxMail)
        _age_everything(2)
        # A mail never sent is kept whatever its age: it may still be retried.
        first = db.session.execute(select(func.min(OutboxMail.id))).scalar()
        db.session.execute(update(OutboxMail).values(sent_at=None).where(OutboxMail.id == first))
        db.session.commit()
        from forum.privacy import retention

        counts = retention.purge()
        assert counts["mails"] == unsent - 1
        assert counts["notifications"] == 0
        assert counts["read_positions"] == 0
