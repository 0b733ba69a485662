"""Writes of the debate: reactions and polls. One call, one transaction.

Positions are written with the reply (:mod:`forum.debate.positions`); the synthesis
has its own module (:mod:`forum.debate.synthesis`).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import joinedload

from forum.accounts.models import User
from forum.db import upsert, utcnow
from forum.debate.models import (
    Poll,
    PollOption,
    PollVote,
    PollVoter,
    Reaction,
    ReactionKind,
    Results,
)
from forum.debate.polls import poll_results
from forum.debate.summary import summary_rows
from forum.discussions.models import Post, Thread
from forum.extensions import db
from forum.jobs import services as jobs
from forum.moderation import log
from forum.notifications import fanout
from forum.pages.versions import touch
from forum.permissions import Action, ensure
from forum.refusals import Refused


def set_synthesis_by_authors(actor: User, theme, allowed: bool) -> None:
    """The theme's setting: may thread authors draft their thread's synthesis?

    :raise 403: ``actor`` is not an admin.
    """
    ensure(actor, Action.THEME_MANAGE, theme)
    if theme.synthesis_by_authors != bool(allowed):
        theme.synthesis_by_authors = bool(allowed)
        db.session.commit()


# -- reactions --------------------------------------------------------------------------------


def toggle_reaction(user: User, post: Post, kind: str) -> bool:
    """Add ``user``'s reaction ``kind`` to ``post``, or take it back if it was there.

    Returns True when the reaction was added. The author hears of it at most once an
    hour per post, through a job written with the reaction and run right after its
    commit (:func:`forum.notifications.fanout.notify_reaction`). The post's summary of
    who reacted is rewritten in the same transaction, under the post's row lock (on
    PostgreSQL), so that two members reacting at once both stay in it.

    :raise Refused: an unknown reaction.
    :raise 403: ``user`` may not react to this post (their own, a hidden one, silenced…).
    """
    ensure(user, Action.POST_REACT, post)
    try:
        kind = ReactionKind(kind or "").value
    except ValueError:
        raise Refused(_("Réaction inconnue : choisissez d'accord, merci ou bien vu.")) from None
    db.session.execute(select(Post.id).where(Post.id == post.id).with_for_update())
    removed = db.session.execute(
        delete(Reaction).where(
            Reaction.post_id == post.id, Reaction.user_id == user.id, Reaction.kind == kind
        )
    ).rowcount
    if not removed:
        stmt = upsert(db.session, Reaction).values(
            post_id=post.id, user_id=user.id, kind=kind, created_at=utcnow()
        )
        db.session.execute(stmt.on_conflict_do_nothing())
        fanout.notify_reaction(post, user)  # its job, if any, commits with the reaction
    refresh_reaction_summaries([post.id])
    touch(thread=post.thread_id)  # the counts under the post, on its thread's pages
    db.session.commit()
    return not removed


def refresh_reaction_summaries(post_ids: Iterable[int]) -> None:
    """Rewrite who reacted to these posts (``posts.reaction_summary``) from the reactions,
    in the current transaction (:mod:`forum.debate.summary`)."""
    ids = sorted(set(post_ids))
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        rows = db.session.execute(
            select(Reaction.post_id, Reaction.kind, User.username)
            .join(User, User.id == Reaction.user_id)
            .where(Reaction.post_id.in_(chunk))
        ).all()
        summaries = summary_rows(rows)
        db.session.execute(
            update(Post),
            [{"id": post_id, "reaction_summary": summaries.get(post_id)} for post_id in chunk],
        )


def reactions_of(post: Post) -> list[Reaction]:
    """Who reacted to ``post`` and how, oldest first."""
    return list(
        db.session.execute(
            select(Reaction)
            .options(joinedload(Reaction.user))
            .where(Reaction.post_id == post.id)
            .order_by(Reaction.created_at, Reaction.user_id)
        ).scalars()
    )


# -- polls ------------------------------------------------------------------------------------

OPTIONS_RANGE = (2, 20)
QUESTION_LENGTH = (3, 300)
OPTION_LENGTH = 200


def _options(text: str) -> list[str]:
    labels, seen = [], set()
    for line in (text or "").splitlines():
        label = " ".join(line.split())
        if not label:
            continue
        if len(label) > OPTION_LENGTH:
            raise Refused(
                _(
                    "Une option fait plus de %(limit)d caractères : raccourcissez-la.",
                    limit=OPTION_LENGTH,
                )
            )
        if label.lower() in seen:
            raise Refused(_("L'option « %(label)s » figure deux fois.", label=label))
        seen.add(label.lower())
        labels.append(label)
    low, high = OPTIONS_RANGE
    if not low <= len(labels) <= high:
        raise Refused(
            _(
                "Un sondage propose entre %(low)d et %(high)d options, une par ligne "
                "(vous en avez écrit %(count)d).",
                low=low,
                high=high,
                count=len(labels),
            )
        )
    return labels


def create_poll(
    author: User,
    thread: Thread,
    *,
    question: str,
    options: str,
    multiple: bool = False,
    closes_at: datetime | None = None,
    results: str = Results.ALWAYS.value,
) -> Poll:
    """Add a poll to ``thread``. ``closes_at`` is in UTC (naive), ``options`` one per line.

    :raise Refused: a question or options out of bounds, a closing date in the past,
        an unknown results setting.
    :raise 403: ``author`` is neither the thread's author nor a moderator of its theme.
    """
    ensure(author, Action.POLL_CREATE, thread)
    if "\x00" in (question or "") + (options or ""):
        raise Refused(_("Le texte contient un caractère nul : retirez-le puis réessayez."))
    question = " ".join((question or "").split())
    low, high = QUESTION_LENGTH
    if not low <= len(question) <= high:
        raise Refused(
            _("La question doit faire entre %(low)d et %(high)d caractères.", low=low, high=high)
        )
    labels = _options(options)
    if closes_at is not None and closes_at <= utcnow():
        raise Refused(_("La date de clôture est déjà passée : choisissez une date à venir."))
    try:
        results = Results(results or Results.ALWAYS.value).value
    except ValueError:
        raise Refused(_("Choix d'affichage des résultats inconnu.")) from None
    poll = Poll(
        thread_id=thread.id,
        author_id=author.id,
        question=question,
        multiple=bool(multiple),
        closes_at=closes_at,
        results=results,
        created_at=utcnow(),
    )
    db.session.add(poll)
    db.session.flush()
    db.session.execute(
        insert(PollOption),
        [{"poll_id": poll.id, "rank": n, "label": label} for n, label in enumerate(labels)],
    )
    touch(thread=poll.thread_id)  # the thread page links to its polls
    if closes_at is not None:  # the worker closes it then (the cached pages follow)
        jobs.enqueue(CLOSE_POLLS_JOB, {"poll_id": poll.id}, run_at=closes_at)
    db.session.commit()
    return poll


#: The job that closes polls at their date (also run by the hourly housekeeping).
CLOSE_POLLS_JOB = "debate.close_polls"


def close_due_polls(now: datetime | None = None) -> int:
    """Close the polls whose closing date has come, in the current transaction (the
    caller commits); returns how many.

    Readers see a poll closed from its date on whatever happens here
    (:meth:`forum.debate.models.Poll.is_closed`); this writes that date as the poll's
    ``closed_at`` (no ``closed_by``: nobody closed it by hand), logs the closing and
    bumps the versions of its thread's pages, so that cached pages stop offering the vote.
    """
    now = now or utcnow()
    due = db.session.execute(
        select(Poll.id, Poll.question, Poll.thread_id, Thread.theme_id)
        .join(Thread, Thread.id == Poll.thread_id)
        .where(Poll.closed_at.is_(None), Poll.closes_at <= now)
        .order_by(Poll.id)
    ).all()
    if not due:
        return 0
    db.session.execute(
        update(Poll)
        .where(Poll.id.in_([row.id for row in due]), Poll.closed_at.is_(None))
        .values(closed_at=Poll.closes_at)
    )
    for row in due:
        log.record(
            None,
            "poll:close",
            theme_id=row.theme_id,
            thread_id=row.thread_id,
            poll_id=row.id,
            question=row.question,
            automatic=True,
        )
    touch(
        threads=sorted({row.thread_id for row in due}),
        themes=sorted({row.theme_id for row in due}),
    )
    return len(due)


@jobs.handler(CLOSE_POLLS_JOB)
def _close_polls_job(_payload: dict) -> None:
    close_due_polls()


def vote(user: User, poll: Poll, option_ids: list[int]) -> None:
    """Record ``user``'s choice in ``poll``, replacing any earlier one.

    One vote per member, exact under concurrency: the voter row is written first (insert
    or update on its primary key), which makes a member's concurrent votes wait for each
    other; then their chosen options are replaced. Counts are read from the rows.

    :raise Refused: no option, an option of another poll, several in a single-choice poll.
    :raise 403: ``user`` may not vote (closed poll, silenced member…).
    """
    ensure(user, Action.POLL_VOTE, poll)
    valid = {option.id for option in poll.options}
    chosen = sorted(set(option_ids))
    if not chosen:
        raise Refused(_("Choisissez au moins une option avant de voter."))
    if any(option_id not in valid for option_id in chosen):
        raise Refused(_("Cette option n'appartient pas à ce sondage."))
    if not poll.multiple and len(chosen) > 1:
        raise Refused(_("Ce sondage n'accepte qu'un seul choix."))
    now = utcnow()
    stmt = upsert(db.session, PollVoter).values(poll_id=poll.id, user_id=user.id, voted_at=now)
    db.session.execute(
        stmt.on_conflict_do_update(
            index_elements=["poll_id", "user_id"], set_={"voted_at": stmt.excluded.voted_at}
        )
    )
    db.session.execute(
        delete(PollVote).where(PollVote.poll_id == poll.id, PollVote.user_id == user.id)
    )
    db.session.execute(
        insert(PollVote),
        [{"poll_id": poll.id, "user_id": user.id, "option_id": option_id} for option_id in chosen],
    )
    touch(thread=poll.thread_id)  # the thread page shows the poll's results
    db.session.commit()


def close_poll(actor: User, poll: Poll) -> Poll:
    """Close ``poll`` now, by hand; the moderation log keeps the act.

    :raise 403: ``actor`` is neither its author nor a moderator, or it is closed already.
    """
    ensure(actor, Action.POLL_CLOSE, poll)
    poll.closed_at = utcnow()
    poll.closed_by_id = actor.id
    log.record(
        actor,
        "poll:close",
        theme_id=poll.thread.theme_id,
        thread_id=poll.thread_id,
        poll_id=poll.id,
        question=poll.question,
    )
    touch(thread=poll.thread_id)
    db.session.commit()
    return poll


def results_csv(actor: User, poll: Poll) -> str:
    """The results as CSV, one line per option: ``option,votes``.

    :raise 403: ``actor`` is neither the poll's author nor a moderator of its theme.
    """
    ensure(actor, Action.POLL_EXPORT, poll)
    results = poll_results(poll, actor)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["option", "votes"])
    for option in poll.options:
        label = option.label
        if label[:1] in ("=", "+", "-", "@"):  # a spreadsheet would run it as a formula
            label = "'" + label
        writer.writerow([label, results.counts.get(option.id, 0)])
    return out.getvalue()
