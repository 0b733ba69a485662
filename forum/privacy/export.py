""" "Télécharger mes données": everything the forum holds about a member, in one ZIP.

The ZIP holds one JSON file per kind of data (keys documented in ``index.html``,
dates in ISO 8601 UTC) and a readable ``index.html``. :func:`request_export`
records the request; :func:`build` writes the file in the background (a large
account's posts are read in batches, never inside a web request) and mails the
member when it is ready. :data:`EXPORTED` and :data:`EXCLUDED` name every model
that holds a member's data, and why it is or is not in the export: a test fails
when a new model joins the forum without a place in either.
"""

from __future__ import annotations

import json
import secrets
import zipfile
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from pathlib import Path

from flask import current_app, render_template
from flask_babel import gettext as _
from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from forum.accounts.models import User
from forum.db import utcnow
from forum.debate.models import (
    Poll,
    PollOption,
    PollVote,
    PollVoter,
    Reaction,
    Synthesis,
    SynthesisApproval,
    SynthesisRevision,
)
from forum.directory.models import (
    ContactRequest,
    Mediator,
    Membership,
    Offer,
    OfferFollow,
    Organisation,
)
from forum.discussions.models import Post, PostRevision, Theme, Thread
from forum.extensions import db
from forum.jobs import services as jobs
from forum.messages.models import (
    Block,
    Conversation,
    Message,
    MessageRevision,
    Participant,
)
from forum.moderation.models import (
    LogEntry,
    Report,
    Sanction,
    ThemeModerator,
    UserNote,
    WatchedWord,
)
from forum.news.models import News
from forum.notifications import mail
from forum.notifications.models import (
    MailPreference,
    Notification,
    OutboxMail,
    ThemeWatch,
    ThreadState,
)
from forum.permissions import Action, ensure
from forum.privacy.models import DataExport, ExportStatus
from forum.refusals import Refused
from forum.seminars.models import Registration, Seminar

#: How long a ready export can be downloaded, and how often one may be asked for.
VALID_FOR = timedelta(days=7)
ONE_PER = timedelta(hours=24)
BATCH = 1000
#: The background job that builds an export.
EXPORT_JOB = "privacy.export"


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() + "Z" if value is not None else None


def _profile(user: User) -> dict:
    return {
        "username": user.username,
        "email": user.email,
        "display_name": user.display_name,
        "bio": user.bio,
        "family": user.family,
        "organisation": user.organisation,
        "territory": user.territory,
        "locale": user.locale,
        "role": user.role,
        "is_organiser": user.is_organiser,
        "created_at": _iso(user.created_at),
        "email_verified_at": _iso(user.email_verified_at),
        "last_seen_at": _iso(user.last_seen_at),
        "post_count": user.post_count,
        "silenced_until": _iso(user.silenced_until),
        "suspended_until": _iso(user.suspended_until),
        "mediator": db.session.get(Mediator, user.id) is not None,
        "moderated_theme_ids": list(
            db.session.execute(
                select(ThemeModerator.theme_id).where(ThemeModerator.user_id == user.id)
            ).scalars()
        ),
    }


def _posts(user: User) -> Iterable[dict]:
    """Every post the member wrote, with its revisions, read in batches."""
    last_id = 0
    while True:
        batch = (
            db.session.execute(
                select(Post)
                .where(Post.author_id == user.id, Post.id > last_id)
                .order_by(Post.id)
                .limit(BATCH)
            )
            .scalars()
            .all()
        )
        if not batch:
            return
        revisions: dict[int, list[PostRevision]] = {}
        for revision in db.session.execute(
            select(PostRevision)
            .where(PostRevision.post_id.in_([post.id for post in batch]))
            .order_by(PostRevision.post_id, PostRevision.id)
        ).scalars():
            revisions.setdefault(revision.post_id, []).append(revision)
        for post in batch:
            yield {
                "id": post.id,
                "thread_id": post.thread_id,
                "parent_id": post.parent_id,
                "created_at": _iso(post.created_at),
                "edited_at": _iso(post.edited_at),
                "deleted_at": _iso(post.deleted_at),
                "hidden_at": _iso(post.hidden_at),
                "body_source": post.body_source,
                "revisions": [
                    {
                        "written_at": _iso(revision.written_at),
                        "replaced_at": _iso(revision.replaced_at),
                        "body_source": revision.body_source,
                        "reason": revision.reason,
                    }
                    for revision in revisions.get(post.id, [])
                ],
            }
        last_id = batch[-1].id
        db.session.expunge_all()  # a 10,000-post account never holds them all in memory


def _threads(user: User) -> list[dict]:
    rows = db.session.execute(
        select(Thread, Theme.slug)
        .join(Theme, Theme.id == Thread.theme_id)
        .where(Thread.author_id == user.id)
        .order_by(Thread.id)
    )
    return [
        {"id": t.id, "title": t.title, "theme": slug, "created_at": _iso(t.created_at)}
        for t, slug in rows
    ]


def _reports(user: User) -> list[dict]:
    rows = db.session.execute(
        select(Report).where(Report.reporter_id == user.id).order_by(Report.id)
    ).scalars()
    return [
        {
            "id": r.id,
            "created_at": _iso(r.created_at),
            "post_id": r.post_id,
            "reason": r.reason,
            "note": r.note,
            "status": r.status,
            "handled_at": _iso(r.handled_at),
        }
        for r in rows
    ]


def _sanctions(user: User) -> list[dict]:
    rows = db.session.execute(
        select(Sanction).where(Sanction.user_id == user.id).order_by(Sanction.id)
    ).scalars()
    return [
        {
            "kind": s.kind,
            "reason": s.reason,
            "created_at": _iso(s.created_at),
            "ends_at": _iso(s.ends_at),
            "lifted_at": _iso(s.lifted_at),
        }
        for s in rows
    ]


def _seminars(user: User) -> list[dict]:
    rows = db.session.execute(
        select(Registration, Seminar.title)
        .join(Seminar, Seminar.id == Registration.seminar_id)
        .options(selectinload(Registration.choices))
        .where(Registration.user_id == user.id)
        .order_by(Registration.id)
    )
    return [
        {
            "seminar_id": r.seminar_id,
            "seminar": title,
            "status": r.status,
            "registered_at": _iso(r.created_at),
            "attended": r.attended,
            "workshops": [{"session_id": c.session_id, "status": c.status} for c in r.choices],
        }
        for r, title in rows
    ]


def _watches(user: User) -> dict:
    threads = db.session.execute(
        select(ThreadState).where(ThreadState.user_id == user.id).order_by(ThreadState.thread_id)
    ).scalars()
    themes = db.session.execute(
        select(ThemeWatch, Theme.slug)
        .join(Theme, Theme.id == ThemeWatch.theme_id)
        .where(ThemeWatch.user_id == user.id)
    )
    return {
        "threads": [
            {
                "thread_id": s.thread_id,
                "level": s.level,
                "last_read_post_id": s.last_read_post_id,
                "updated_at": _iso(s.updated_at),
            }
            for s in threads
        ],
        "themes": [{"theme": slug, "since": _iso(w.created_at)} for w, slug in themes],
    }


def _preferences(user: User) -> list[dict]:
    rows = db.session.execute(
        select(MailPreference).where(MailPreference.user_id == user.id)
    ).scalars()
    return [{"kind": p.kind, "delivery": p.delivery} for p in rows]


def _notifications(user: User) -> list[dict]:
    rows = db.session.execute(
        select(Notification).where(Notification.user_id == user.id).order_by(Notification.id)
    ).scalars()
    return [
        {
            "kind": n.kind,
            "event": n.event,
            "created_at": _iso(n.created_at),
            "read_at": _iso(n.read_at),
            "thread_id": n.thread_id,
            "post_id": n.post_id,
            "seminar_id": n.seminar_id,
        }
        for n in rows
    ]


def _conversations(user: User) -> list[dict]:
    """The private conversations the member takes part in, with the messages they see."""
    mine = db.session.execute(
        select(Participant, Conversation)
        .join(Conversation, Conversation.id == Participant.conversation_id)
        .where(Participant.user_id == user.id)
        .order_by(Conversation.id)
    ).all()
    out = []
    for participant, conversation in mine:
        stmt = (
            select(Message, User.username)
            .outerjoin(User, User.id == Message.author_id)
            .where(Message.conversation_id == conversation.id)
            .order_by(Message.id)
        )
        if participant.visible_from is not None:
            stmt = stmt.where(Message.created_at >= participant.visible_from)
        if participant.left_at is not None:
            stmt = stmt.where(Message.created_at <= participant.left_at)
        rows = db.session.execute(stmt).all()
        own = [message.id for message, _author in rows if message.author_id == user.id]
        revisions: dict[int, list[dict]] = {}
        for revision in db.session.execute(
            select(MessageRevision)
            .where(MessageRevision.message_id.in_(own))
            .order_by(MessageRevision.id)
        ).scalars():
            revisions.setdefault(revision.message_id, []).append(
                {
                    "written_at": _iso(revision.written_at),
                    "replaced_at": _iso(revision.replaced_at),
                    "body_source": revision.body_source,
                }
            )
        messages = []
        for message, author in rows:
            withheld = message.deleted_at is not None or (
                message.hidden_at is not None and message.author_id != user.id
            )
            messages.append(
                {
                    "id": message.id,
                    "kind": message.kind,
                    "author": author,
                    "created_at": _iso(message.created_at),
                    "edited_at": _iso(message.edited_at),
                    "deleted_at": _iso(message.deleted_at),
                    "body_source": None if withheld else message.body_source,
                    "revisions": revisions.get(message.id, []),
                }
            )
        out.append(
            {
                "id": conversation.id,
                "subject": conversation.subject,
                "joined_at": _iso(participant.joined_at),
                "left_at": _iso(participant.left_at),
                "muted": participant.muted,
                "messages": messages,
            }
        )
    return out


def _blocks(user: User) -> list[dict]:
    rows = db.session.execute(
        select(Block, User.username)
        .join(User, User.id == Block.blocked_id)
        .where(Block.blocker_id == user.id)
    )
    return [{"username": name, "since": _iso(block.created_at)} for block, name in rows]


def _organisations(user: User) -> dict:
    """Organisations the member belongs to (or asked to), offers and needs they wrote,
    offers they follow, contact requests they made, answered or mediated."""
    memberships = db.session.execute(
        select(Membership, Organisation.name, Organisation.slug)
        .join(Organisation, Organisation.id == Membership.organisation_id)
        .where(Membership.user_id == user.id)
        .order_by(Membership.id)
    )
    offers = db.session.execute(
        select(Offer).where(Offer.author_id == user.id).order_by(Offer.id)
    ).scalars()
    follows = db.session.execute(
        select(OfferFollow.offer_id, OfferFollow.created_at).where(OfferFollow.user_id == user.id)
    )
    requests = db.session.execute(
        select(ContactRequest)
        .where(
            or_(
                ContactRequest.requester_id == user.id,
                ContactRequest.answered_by_id == user.id,
                ContactRequest.mediator_id == user.id,
            )
        )
        .order_by(ContactRequest.id)
    ).scalars()
    return {
        "memberships": [
            {
                "organisation": name,
                "slug": slug,
                "role": m.role,
                "since": _iso(m.created_at),
                "message": m.message,
            }
            for m, name, slug in memberships
        ],
        "offers_and_needs": [
            {
                "id": o.id,
                "kind": o.kind,
                "title": o.title,
                "body_source": o.body_source,
                "status": o.status,
                "created_at": _iso(o.created_at),
            }
            for o in offers
        ],
        "follows": [{"offer_id": offer_id, "since": _iso(at)} for offer_id, at in follows],
        "contact_requests": [
            {
                "id": r.id,
                "role": "requester"
                if r.requester_id == user.id
                else ("mediator" if r.mediator_id == user.id else "answered"),
                "created_at": _iso(r.created_at),
                "message": r.message if r.requester_id == user.id else None,
                "answer": r.answer if r.answered_by_id == user.id else None,
                "summary": r.summary if r.mediator_id == user.id else None,
                "status": r.status,
                "outcome": r.outcome,
            }
            for r in requests
        ],
    }


def _debate(user: User) -> dict:
    """Reactions given, polls opened and votes cast, syntheses written or approved."""
    reactions = db.session.execute(
        select(Reaction).where(Reaction.user_id == user.id).order_by(Reaction.created_at)
    ).scalars()
    polls = db.session.execute(
        select(Poll).where(Poll.author_id == user.id).order_by(Poll.id)
    ).scalars()
    votes = db.session.execute(
        select(Poll.id, Poll.question, PollOption.label)
        .join(PollVote, PollVote.poll_id == Poll.id)
        .join(PollOption, PollOption.id == PollVote.option_id)
        .where(PollVote.user_id == user.id)
        .order_by(Poll.id, PollOption.rank)
    )
    voted_at = dict(
        db.session.execute(
            select(PollVoter.poll_id, PollVoter.voted_at).where(PollVoter.user_id == user.id)
        ).all()
    )
    written = db.session.execute(
        select(Synthesis).where(Synthesis.author_id == user.id).order_by(Synthesis.id)
    ).scalars()
    approved = db.session.execute(
        select(SynthesisApproval).where(SynthesisApproval.user_id == user.id)
    ).scalars()
    return {
        "reactions": [
            {"post_id": r.post_id, "reaction": r.kind, "created_at": _iso(r.created_at)}
            for r in reactions
        ],
        "polls_opened": [
            {"id": p.id, "thread_id": p.thread_id, "question": p.question} for p in polls
        ],
        "votes": [
            {
                "poll_id": poll_id,
                "question": question,
                "option": label,
                "voted_at": _iso(voted_at.get(poll_id)),
            }
            for poll_id, question, label in votes
        ],
        "syntheses_written": [
            {
                "thread_id": sy.thread_id,
                "consensus": sy.consensus,
                "disagreements": sy.disagreements,
                "questions": sy.questions,
                "proposals": sy.proposals,
                "published_at": _iso(sy.published_at),
            }
            for sy in written
        ],
        "syntheses_approved": [
            {"synthesis_id": a.synthesis_id, "at": _iso(a.created_at)} for a in approved
        ],
    }


#: (file, what it holds, builder): the export's content, in the order of index.html.
SECTIONS: list[tuple[str, str, Callable]] = [
    ("profile.json", "Votre compte et votre profil : pseudo, adresse, champs publics, rôle, sanctions en cours.", _profile),
    ("posts.json", "Vos messages (source Markdown) avec l'historique de leurs modifications.", _posts),
    ("threads.json", "Les fils que vous avez ouverts.", _threads),
    ("reports.json", "Les signalements que vous avez faits (pas ceux qui vous concernent : ils relèvent de la modération).", _reports),
    ("sanctions.json", "Les sanctions que vous avez reçues, avec leur raison publique.", _sanctions),
    ("seminars.json", "Vos inscriptions aux séminaires et votre présence.", _seminars),
    ("watches.json", "Les fils et thèmes suivis, et où vous en êtes de leur lecture.", _watches),
    ("preferences.json", "Vos préférences d'envoi d'e-mails.", _preferences),
    ("notifications.json", "Vos notifications.", _notifications),
    ("conversations.json", "Vos conversations privées, avec les messages que vous y voyez.", _conversations),
    ("blocks.json", "Les comptes que vous avez bloqués.", _blocks),
    ("debate.json", "Vos réactions, les sondages ouverts et vos votes, les synthèses écrites ou approuvées.", _debate),
    ("organisations.json", "Vos organisations, les offres et besoins que vous avez publiés, ceux que vous suivez, vos demandes de mise en relation.", _organisations),
]  # fmt: skip

#: Models holding a member's data that the export carries, and in which file.
EXPORTED: dict[type, str] = {
    User: "profile.json",
    ThemeModerator: "profile.json",
    Post: "posts.json",
    PostRevision: "posts.json",
    Thread: "threads.json",
    Report: "reports.json",
    Sanction: "sanctions.json",
    Registration: "seminars.json",
    ThreadState: "watches.json",
    ThemeWatch: "watches.json",
    MailPreference: "preferences.json",
    Notification: "notifications.json",
    Participant: "conversations.json",
    Conversation: "conversations.json",
    Message: "conversations.json",
    MessageRevision: "conversations.json",
    Block: "blocks.json",
    Membership: "organisations.json",
    Offer: "organisations.json",
    OfferFollow: "organisations.json",
    ContactRequest: "organisations.json",
    Mediator: "profile.json",
    Reaction: "debate.json",
    Poll: "debate.json",
    PollVote: "debate.json",
    PollVoter: "debate.json",
    Synthesis: "debate.json",
    SynthesisApproval: "debate.json",
}
#: Models that refer to members but stay out of the export, and why.
EXCLUDED: dict[type, str] = {
    UserNote: "notes des modérateur·rices sur un membre : elles relèvent de la modération",
    LogEntry: "journal de modération : actes des modérateur·rices, pas données du membre",
    OutboxMail: "copies des e-mails déjà reçus par le membre, effacées après quelques jours",
    WatchedWord: "réglage de modération écrit par un·e modérateur·rice",
    News: "actualités publiques publiées par les administrateur·rices",
    Seminar: "séminaires publics créés par les organisateur·rices",
    Organisation: "fiches publiques des organisations ; celles du membre sont dans organisations.json",
    DataExport: "les demandes d'export elles-mêmes",
    SynthesisRevision: "versions antérieures d'une synthèse, texte de modération du fil",
}


def directory() -> Path:
    path = Path(current_app.instance_path) / "exports"
    path.mkdir(parents=True, exist_ok=True)
    return path


def latest(user: User) -> DataExport | None:
    return db.session.execute(
        select(DataExport)
        .where(DataExport.user_id == user.id)
        .order_by(DataExport.created_at.desc(), DataExport.id.desc())
        .limit(1)
    ).scalar()


def request_export(user: User) -> DataExport:
    """Record a request (built in the background). :raise Refused: one already within 24 h."""
    ensure(user, Action.ACCOUNT_EXPORT, user)
    previous = latest(user)
    if previous is not None and previous.created_at > utcnow() - ONE_PER:
        raise Refused(
            _(
                "Vous avez déjà demandé vos données il y a moins de 24 heures : "
                "une demande par jour au plus."
            )
        )
    export = DataExport(
        user_id=user.id,
        token=secrets.token_urlsafe(32),
        status=ExportStatus.PENDING,
        total=len(SECTIONS) + 1,
    )
    db.session.add(export)
    db.session.flush()
    jobs.enqueue(EXPORT_JOB, {"export_id": export.id})
    db.session.commit()
    return export


def build(export_id: int) -> None:
    """Write the ZIP of one export (idempotent: a ready export is left alone). Commits."""
    export = db.session.get(DataExport, export_id)
    if export is None or export.status == ExportStatus.READY:
        return
    user = db.session.get(User, export.user_id)
    export.status, export.done = ExportStatus.RUNNING, 0
    db.session.commit()
    path = directory() / f"{export.token}.zip"
    partial = path.with_suffix(".part")
    user_id, token = user.id, export.token
    with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, _description, builder in SECTIONS:
            user = db.session.get(User, user_id)
            data = builder(user)
            if not isinstance(data, dict | list):
                data = list(data)
            archive.writestr(name, json.dumps(data, ensure_ascii=False, indent=1))
            db.session.get(DataExport, export_id).done += 1
            db.session.commit()
        user = db.session.get(User, user_id)
        archive.writestr(
            "index.html",
            render_template(
                "privacy/export_index.html",
                user=user,
                sections=[(name, description) for name, description, _b in SECTIONS],
                generated_at=utcnow(),
            ),
        )
    partial.replace(path)
    export = db.session.get(DataExport, export_id)
    now = utcnow()
    export.status, export.done, export.size = ExportStatus.READY, export.total, path.stat().st_size
    export.ready_at, export.expires_at = now, now + VALID_FOR
    mail.queue(
        user.email,
        _("Vos données sont prêtes"),
        "data_export",
        user=user,
        url=mail.external_url("privacy.download", token=token),
        days=VALID_FOR.days,
    )
    db.session.commit()


@jobs.handler(EXPORT_JOB)
def _build_job(payload: dict) -> None:
    """The worker's part: build the export (idempotent: a ready one is left alone)."""
    build(payload["export_id"])


def build_pending() -> int:
    """Build every export waiting (what the background worker runs); the number built."""
    ids = list(
        db.session.execute(
            select(DataExport.id)
            .where(DataExport.status.in_([ExportStatus.PENDING, ExportStatus.RUNNING]))
            .order_by(DataExport.id)
        ).scalars()
    )
    for export_id in ids:
        build(export_id)
    return len(ids)


def ready_file(user: User, token: str) -> Path | None:
    """The ZIP behind ``token`` if it is ``user``'s, ready and not expired."""
    export = db.session.execute(
        select(DataExport).where(DataExport.token == token, DataExport.user_id == user.id)
    ).scalar()
    if export is None or export.status != ExportStatus.READY or export.expires_at < utcnow():
        return None
    path = directory() / f"{token}.zip"
    return path if path.exists() else None


def purge_expired(now: datetime | None = None) -> int:
    """Delete the files of expired exports (rows stay: they date the last request); the
    caller commits."""
    now = now or utcnow()
    expired = db.session.execute(
        select(DataExport).where(
            DataExport.status == ExportStatus.READY, DataExport.expires_at < now
        )
    ).scalars()
    count = 0
    for export in expired:
        (directory() / f"{export.token}.zip").unlink(missing_ok=True)
        export.status = ExportStatus.EXPIRED
        count += 1
    return count
