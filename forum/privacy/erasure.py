"""Erasure: an account leaves, the debates stay readable.

:func:`erase_account` turns the account into "participant·e supprimé·e N" (N is
its id: stable, never reused) everywhere at once, since pages read the name
from the ``users`` row. What identifies the person goes: e-mail, password
hash, profile, sessions, preferences, watches, read positions, notifications,
mails in the outbox, moderator rights, registrations to seminars still to come
(seats freed, waiting list promoted). Posts stay, signed with the anonymous
name, unless the person asked to delete them too: each becomes the deleted
placeholder, its text and revisions erased. Private messages stay for the other
participants, signed with the anonymous name, and so do their reactions to posts.
Mentions and quotes of the person in other members' posts and messages name the
anonymous account instead. Blocks, made or received, go. Moderation records
(reports, sanctions, the log) keep their rows under the anonymous id. An organisation
whose only representative leaves keeps running under the anonymous name, and the
moderation log asks moderators to hand it on.
"""

from __future__ import annotations

import re

from flask_babel import gettext as _
from sqlalchemy import delete, or_, select, update

from forum import content
from forum.accounts import lookalike
from forum.accounts import services as accounts
from forum.accounts.models import Role, User
from forum.db import utcnow
from forum.debate.models import Reaction
from forum.debate.services import refresh_reaction_summaries
from forum.directory.models import (
    Mediator,
    MemberRole,
    Membership,
    OfferFollow,
    Organisation,
)
from forum.discussions.models import Post, PostRevision
from forum.extensions import db
from forum.messages.models import Block, Message
from forum.moderation import log
from forum.moderation.models import ThemeModerator
from forum.notifications.models import (
    MailPreference,
    Notification,
    OutboxMail,
    ThemeWatch,
    ThreadState,
)
from forum.pages.versions import touch
from forum.permissions import Action, ensure
from forum.refusals import Refused
from forum.search import services as search
from forum.seminars import services as seminars
from forum.seminars.models import Registration, RegistrationStatus, Seminar

#: The name an erased account carries everywhere; its number is the account's id.
ERASED_NAME = "participant·e supprimé·e {number}"
#: A password hash that no password matches.
UNUSABLE_HASH = "!"


def erased_name(user_id: int) -> str:
    return ERASED_NAME.format(number=user_id)


def erase_own_account(user: User, password: str, *, with_posts: bool) -> None:
    """The member erases their account. :raise Refused: wrong password."""
    ensure(user, Action.ACCOUNT_ERASE, user)
    if not accounts.password_matches(user, password):
        raise Refused(_("Le mot de passe est incorrect : votre compte n'a pas été supprimé."))
    erase_account(user, actor=user, with_posts=with_posts)


def erase_account(user: User, *, actor: User | None, with_posts: bool) -> None:
    """Erase ``user`` (see the module); ``actor`` None is the command line. Commits.

    :raise 403: ``actor`` may not erase ``user``.
    :raise Refused: the account is already erased.
    """
    if actor is not None and actor.id != user.id:
        ensure(actor, Action.USER_ERASE, user)
    if user.erased_at is not None:
        raise Refused(_("Ce compte est déjà supprimé."))
    _leave_future_seminars(user)
    user_id, old_names, old_email = user.id, _names(user), user.email
    name = erased_name(user_id)
    _rewrite_mentions_and_quotes(user_id, old_names, name)
    if with_posts:
        _erase_posts(user_id)
    for model in (MailPreference, ThemeWatch, ThreadState, Notification, ThemeModerator):
        db.session.execute(delete(model).where(model.user_id == user_id))
    db.session.execute(
        delete(Block).where(or_(Block.blocker_id == user_id, Block.blocked_id == user_id))
    )
    for model in (OfferFollow, Mediator):
        db.session.execute(delete(model).where(model.user_id == user_id))
    _leave_organisations(user_id)
    # Mails to the person, and mails to others that name them (sent or still waiting).
    named = [
        column.contains(name)
        for name in old_names
        for column in (OutboxMail.subject, OutboxMail.text_body, OutboxMail.html_body)
    ]
    db.session.execute(
        delete(OutboxMail).where(
            or_(OutboxMail.user_id == user_id, OutboxMail.to_address == old_email, *named)
        )
    )
    db.session.execute(
        update(User)
        .where(User.id == user_id)
        .values(
            username=name,
            username_key=accounts.username_key(name),
            username_skeleton=lookalike.skeleton(name),
            email="",
            email_key=f"erased-{user_id}",
            password_hash=UNUSABLE_HASH,
            role=Role.MEMBER.value,
            display_name="",
            bio="",
            family=None,
            organisation="",
            territory="",
            locale=None,
            session_version=User.session_version + 1,
            is_organiser=False,
            last_seen_at=None,
            unread_notifications=0,
            email_verified_at=None,
            erased_at=utcnow(),
        )
    )
    # The new name in the lists of who reacted, kept on the posts they reacted to.
    refresh_reaction_summaries(
        db.session.execute(select(Reaction.post_id).where(Reaction.user_id == user_id)).scalars()
    )
    log.record(
        actor if actor is not None and actor.id != user_id else None,
        "user:erase",
        user_id=user_id,
        with_posts=with_posts,
    )
    touch(site=True)  # the name, posts and quotes change on pages anyone may have cached
    db.session.commit()


def _names(user: User) -> list[str]:
    return [name for name in {user.username, user.display_name} if name]


def _leave_organisations(user_id: int) -> None:
    """Memberships go, except where the person was an organisation's only representative:
    that row stays (the organisation keeps running, under the anonymous name) and the
    moderation log asks moderators to hand the organisation on."""
    memberships = db.session.execute(
        select(Membership).where(Membership.user_id == user_id)
    ).scalars()
    for membership in list(memberships):
        if membership.role == MemberRole.REPRESENTATIVE.value:
            others = db.session.execute(
                select(Membership.id).where(
                    Membership.organisation_id == membership.organisation_id,
                    Membership.role == MemberRole.REPRESENTATIVE.value,
                    Membership.user_id != user_id,
                )
            ).first()
            if others is None:
                log.record(
                    None,
                    "organisation:orphaned",
                    user_id=user_id,
                    organisation=membership.organisation.slug,
                    name=membership.organisation.name,
                )
                continue
        if membership.role != MemberRole.PENDING.value:
            db.session.execute(
                update(Organisation)
                .where(Organisation.id == membership.organisation_id)
                .values(member_count=Organisation.member_count - 1)
            )
        db.session.delete(membership)


def _leave_future_seminars(user: User) -> None:
    """Free the seats of seminars still to come (the waiting list moves up), one by one."""
    seminars_ahead = db.session.execute(
        select(Seminar)
        .join(Registration, Registration.seminar_id == Seminar.id)
        .where(
            Registration.user_id == user.id,
            Registration.status.in_(
                [RegistrationStatus.CONFIRMED.value, RegistrationStatus.WAITING.value]
            ),
            Seminar.starts_at > utcnow(),
        )
    ).scalars()
    for seminar in list(seminars_ahead):
        seminars.unregister(user, seminar)


def _erase_posts(user_id: int) -> None:
    """Each post becomes the deleted placeholder; its text and its revisions go."""
    posts = db.session.execute(select(Post).where(Post.author_id == user_id)).scalars().all()
    now = utcnow()
    for post in posts:
        if post.deleted_at is None:
            post.deleted_at, post.deleted_by_id = now, user_id
        post.body_source = post.body_html = ""
        search.unindex_post(post)
    ids = [post.id for post in posts]
    if ids:
        db.session.execute(delete(PostRevision).where(PostRevision.post_id.in_(ids)))


def _rewrite_mentions_and_quotes(user_id: int, names: list[str], new_name: str) -> None:
    """Others' posts and private messages: ``@pseudo`` and "**Nom** a écrit" name the
    anonymous account instead."""
    patterns = [re.compile(rf"(?<![\w@/])@{re.escape(name)}(?![\w-])", re.I) for name in names]
    quote_patterns = [
        re.compile(rf"\*\*{re.escape(content.escape_markdown(name))}\*\* a écrit", re.I)
        for name in names
    ]
    replacement = content.escape_markdown(new_name)
    for model in (Post, Message):
        clauses = [model.body_source.ilike(f"%{name}%") for name in names]
        candidates = db.session.execute(
            select(model).where(model.author_id != user_id, or_(*clauses))
        ).scalars()
        for row in candidates:
            source = row.body_source
            for pattern in patterns:
                source = pattern.sub(replacement, source)
            for pattern in quote_patterns:
                source = pattern.sub(f"**{replacement}** a écrit", source)
            if source == row.body_source:
                continue
            row.body_source = source
            row.body_html = content.render_markdown(source)
            row.render_version = content.RENDER_VERSION
            if model is Post and row.deleted_at is None:
                search.index_post(row, row.thread)
