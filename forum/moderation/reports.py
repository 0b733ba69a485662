"""Reports (signalements) and the review queue's decisions.

A report of a post first moves the post's ``open_report_count`` in SQL: that UPDATE takes
the post's row lock (PostgreSQL) or runs inside ``BEGIN IMMEDIATE`` (SQLite), so reports of
one post are counted one after the other and the post is hidden exactly once when the
threshold is reached. Decisions on an item close its open reports with
``UPDATE … WHERE status = 'open'``: when two moderators decide at once, one wins and the
other is told the item was already handled.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select, update
from sqlalchemy.orm import joinedload

from forum.accounts.models import User
from forum.db import utcnow
from forum.discussions.models import Post, Thread
from forum.extensions import db
from forum.moderation import log, sanctions
from forum.moderation.models import Report, ReportReason, ReportStatus
from forum.moderation.services import check_reason, hide_post, review_pending
from forum.notifications.fanout import notify_moderation
from forum.notifications.models import ModerationEvent
from forum.pages.versions import touch
from forum.permissions import Action, ensure, moderation_scope
from forum.refusals import Refused

NOTE_MAX = 1000


def _check_report(reason: str, note: str) -> tuple[str, str]:
    if reason not in {r.value for r in ReportReason}:
        raise Refused(_("Choisissez la raison du signalement dans la liste."))
    note = (note or "").strip()
    if "\x00" in note:
        raise Refused(_("La précision contient un caractère nul : retirez-le."))
    if reason == ReportReason.OTHER and len(note) < 3:
        raise Refused(_("Pour la raison « autre », expliquez en quelques mots ce qui ne va pas."))
    return reason, note[:NOTE_MAX]


def report_post(reporter: User, post: Post, reason: str, note: str = "") -> Report:
    """Report ``post``; at the threshold of distinct reporters it is hidden at once.

    :raise Refused: bad reason or note, or this member already has an open report on it.
    :raise 403: reporting one's own post, a hidden or deleted one, or while silenced.
    """
    ensure(reporter, Action.POST_REPORT, post)
    reason, note = _check_report(reason, note)
    # Taking the row lock first: concurrent reports of this post queue here.
    count = db.session.execute(
        update(Post)
        .where(Post.id == post.id)
        .values(open_report_count=Post.open_report_count + 1)
        .returning(Post.open_report_count)
    ).scalar_one()
    already = db.session.execute(
        select(Report.id).where(Report.reporter_id == reporter.id, Report.open_key == str(post.id))
    ).scalar()
    if already is not None:
        db.session.rollback()
        raise Refused(_("Vous avez déjà signalé ce message ; l'équipe de modération l'examine."))
    report = Report(
        reporter_id=reporter.id,
        post_id=post.id,
        user_id=post.author_id,
        theme_id=post.thread.theme_id,
        reason=reason,
        note=note,
        open_key=str(post.id),
    )
    db.session.add(report)
    threshold = current_app.config["FORUM_REPORT_HIDE_THRESHOLD"]
    hidden = None
    if threshold and count >= threshold:
        # Conditional: hidden once, whoever reaches the threshold first.
        hidden = hide_post(
            None,
            post,
            _("Masqué automatiquement après %(n)d signalements, en attente d'examen.", n=count),
            act="post:auto-hide",
        )
    if hidden is not None:
        notify_moderation([post.author_id], ModerationEvent.POST_HIDDEN, post=post)
    db.session.commit()
    return report


def report_user(reporter: User, target: User, reason: str, note: str = "") -> Report:
    """Report a user from their profile. :raise Refused: already reported and still open."""
    ensure(reporter, Action.USER_REPORT, target)
    reason, note = _check_report(reason, note)
    key = f"u{target.id}"
    already = db.session.execute(
        select(Report.id).where(Report.reporter_id == reporter.id, Report.open_key == key)
    ).scalar()
    if already is not None:
        raise Refused(_("Vous avez déjà signalé ce compte ; l'équipe de modération l'examine."))
    report = Report(
        reporter_id=reporter.id, user_id=target.id, reason=reason, note=note, open_key=key
    )
    db.session.add(report)
    db.session.commit()
    return report


# -- the queue --------------------------------------------------------------------------------


@dataclass
class QueueItem:
    kind: str  # "post" (reported post), "pending" (awaiting approval), "user" (reported user)
    since: datetime
    post: Post | None = None
    user: User | None = None
    reports: list[Report] = field(default_factory=list)
    #: A reported private message: the queue links to its context, never shows its text.
    message_id: int | None = None

    @property
    def reasons(self) -> list[str]:
        return sorted({r.reason_label for r in self.reports})


KINDS = ("post", "pending", "user")


def queue(viewer: User, theme_id: int | None = None, kind: str | None = None) -> list[QueueItem]:
    """Open items, oldest first: reported posts (grouped), pending posts, reported users.

    A theme moderator sees only items of their themes (user reports belong to no theme:
    global moderators handle them). Three queries whatever the queue's length.
    """
    scope = moderation_scope(viewer)
    items: list[QueueItem] = []
    if kind in (None, "post", "user"):
        stmt = (
            select(Report)
            .options(
                joinedload(Report.reporter),
                joinedload(Report.user),
                joinedload(Report.post).joinedload(Post.thread),
                joinedload(Report.post).joinedload(Post.author),
            )
            .where(Report.status == ReportStatus.OPEN)
            .order_by(Report.created_at, Report.id)
        )
        if kind == "post":
            stmt = stmt.where(Report.post_id.is_not(None))
        elif kind == "user":
            stmt = stmt.where(Report.post_id.is_(None), Report.message_id.is_(None))
        if theme_id is not None:
            stmt = stmt.where(Report.theme_id == theme_id)
        if scope is not None:
            stmt = stmt.where(Report.theme_id.in_(scope))
        grouped: dict[tuple, QueueItem] = {}
        for report in db.session.execute(stmt).scalars():
            key = ("post", report.post_id) if report.post_id else ("user", report.user_id)
            if report.message_id is not None:
                key = ("message", report.message_id)
            if key not in grouped:
                grouped[key] = QueueItem(
                    kind=key[0],
                    since=report.created_at,
                    post=report.post,
                    user=report.user,
                    message_id=report.message_id,
                )
            grouped[key].reports.append(report)
        items.extend(grouped.values())
    if kind in (None, "pending"):
        stmt = (
            select(Post)
            .join(Post.thread)
            .options(joinedload(Post.author), joinedload(Post.thread))
            .where(Post.pending_at.is_not(None))
            .order_by(Post.pending_at, Post.id)
        )
        if theme_id is not None:
            stmt = stmt.where(Thread.theme_id == theme_id)
        if scope is not None:
            stmt = stmt.where(Thread.theme_id.in_(scope))
        for post in db.session.execute(stmt).scalars():
            items.append(
                QueueItem(kind="pending", since=post.pending_at, post=post, user=post.author)
            )
    items.sort(key=lambda item: item.since)
    return items


def _close_reports(actor: User, where, status: ReportStatus, outcome: str) -> list[int]:
    """Close the open reports matched by ``where``; [] when someone else already did."""
    ids = list(
        db.session.execute(
            update(Report)
            .where(where, Report.status == ReportStatus.OPEN)
            .values(
                status=status.value,
                open_key=None,
                handled_by_id=actor.id,
                handled_at=utcnow(),
                outcome=outcome,
            )
            .returning(Report.id)
        ).scalars()
    )
    if not ids:
        db.session.rollback()
        raise Refused(_("Ce signalement a déjà été traité par un·e autre modérateur·rice."))
    return ids


DECISIONS = ("dismiss", "hide", "hide_sanction")


def decide_post(
    actor: User,
    post: Post,
    decision: str,
    reason: str,
    *,
    sanction_kind: str | None = None,
    days: int | None = None,
) -> None:
    """Close a reported post's open reports: dismiss, hide, or hide and sanction the author.

    Dismissing a post the reports had hidden shows it again.

    :raise Refused: already handled, no reason, or an unknown decision.
    :raise 403: the actor does not moderate the post's theme (or may not sanction its author).
    """
    if decision not in DECISIONS:
        raise Refused(_("Décision inconnue."))
    # Hiding and restoring need the same right: a moderator of the theme, over the author.
    ensure(actor, Action.POST_RESTORE if post.is_hidden else Action.POST_HIDE, post)
    if decision == "hide_sanction":
        ensure(actor, Action.USER_SANCTION, post.author)
    reason = check_reason(reason)
    status = ReportStatus.DISMISSED if decision == "dismiss" else ReportStatus.UPHELD
    ids = _close_reports(actor, Report.post_id == post.id, status, reason)
    db.session.execute(update(Post).where(Post.id == post.id).values(open_report_count=0))
    restored = hidden = False
    if decision == "dismiss" and post.is_hidden and post.hidden_by_id is None:
        db.session.execute(
            update(Post).where(Post.id == post.id).values(hidden_at=None, hidden_reason="")
        )
        db.session.refresh(post)
        if post.is_opening:
            db.session.execute(
                update(Thread).where(Thread.id == post.thread_id).values(hidden_at=None)
            )
        restored = True
    elif decision != "dismiss" and not post.is_hidden:
        db.session.execute(
            update(Post)
            .where(Post.id == post.id)
            .values(hidden_at=utcnow(), hidden_by_id=actor.id, hidden_reason=reason)
        )
        hidden = True
        db.session.refresh(post)
        if post.is_opening:
            db.session.execute(
                update(Thread).where(Thread.id == post.thread_id).values(hidden_at=post.hidden_at)
            )
    log.record(
        actor,
        "report:dismiss" if decision == "dismiss" else "report:uphold",
        user_id=post.author_id,
        theme_id=post.thread.theme_id,
        thread_id=post.thread_id,
        post_id=post.id,
        reason=reason,
        reports=ids,
        decision=decision,
        restored=restored,
    )
    author_id = post.author_id
    if decision == "hide_sanction":
        sanctions.sanction(actor, post.author, sanction_kind or "", days, reason, commit=False)
    touch(thread=post.thread, relatives=post.is_opening)
    # Told in the decision's transaction (the sanction tells its own).
    notify_moderation(_reporters(ids), ModerationEvent.REPORT_HANDLED)
    if restored:
        notify_moderation([author_id], ModerationEvent.POST_RESTORED, post=post)
    elif hidden:
        notify_moderation([author_id], ModerationEvent.POST_HIDDEN, post=post)
    db.session.commit()


def decide_user(actor: User, target: User, decision: str, reason: str, **sanction) -> None:
    """Close a reported user's open reports: dismiss, or sanction (``hide_sanction``)."""
    if decision not in ("dismiss", "hide_sanction"):
        raise Refused(_("Décision inconnue."))
    ensure(actor, Action.USER_SANCTION, target)
    reason = check_reason(reason)
    status = ReportStatus.DISMISSED if decision == "dismiss" else ReportStatus.UPHELD
    ids = _close_reports(
        actor, (Report.user_id == target.id) & Report.post_id.is_(None), status, reason
    )
    log.record(
        actor,
        "report:dismiss" if decision == "dismiss" else "report:uphold",
        user_id=target.id,
        reason=reason,
        reports=ids,
        decision=decision,
    )
    if decision == "hide_sanction":
        sanctions.sanction(
            actor,
            target,
            sanction.get("sanction_kind") or "",
            sanction.get("days"),
            reason,
            commit=False,
        )
    notify_moderation(_reporters(ids), ModerationEvent.REPORT_HANDLED)
    db.session.commit()


def _reporters(report_ids: list[int]) -> list[int]:
    """Who filed these reports (each is told once the decision is committed)."""
    return list(
        db.session.execute(
            select(Report.reporter_id).where(Report.id.in_(report_ids)).distinct()
        ).scalars()
    )


def decide_pending(actor: User, post: Post, approve: bool, reason: str) -> Post:
    return review_pending(actor, post, approve, reason)


def my_reports(reporter: User) -> list[Report]:
    """A member's reports, newest first, with their outcome."""
    return list(
        db.session.execute(
            select(Report)
            .options(joinedload(Report.post).joinedload(Post.thread), joinedload(Report.user))
            .where(Report.reporter_id == reporter.id)
            .order_by(Report.created_at.desc(), Report.id.desc())
            .limit(100)
        ).scalars()
    )


def open_count(viewer: User) -> int:
    scope = moderation_scope(viewer)
    stmt = select(func.count()).select_from(Report).where(Report.status == ReportStatus.OPEN)
    if scope is not None:
        stmt = stmt.where(Report.theme_id.in_(scope))
    return db.session.execute(stmt).scalar_one()
