"""What the directory tells members, in the transaction of the change.

Each function writes, in the caller's transaction, the job that notifies (through
:func:`forum.notifications.fanout.notify_directory`): a change rolled back tells
nobody; a committed one is told right after its commit, or by the worker.
"""

from __future__ import annotations

from sqlalchemy import select

from forum.directory import queries
from forum.directory.models import ContactRequest, MemberRole, Membership, Offer, OfferFollow
from forum.extensions import db
from forum.jobs import services as jobs
from forum.notifications import mail
from forum.notifications.fanout import directory_notices, notify_directory
from forum.notifications.models import DirectoryEvent


def representatives(organisation_id: int) -> list[int]:
    return list(
        db.session.execute(
            select(Membership.user_id).where(
                Membership.organisation_id == organisation_id,
                Membership.role == MemberRole.REPRESENTATIVE.value,
            )
        ).scalars()
    )


#: The job that looks for the followers a new offer matches, and tells them.
MATCHES_JOB = "directory.matches"


def new_matches(offer: Offer) -> int:
    """In the offer's transaction: the job that tells the followers of open offers or
    needs that ``offer`` answers them well (the matching runs in the job, after the
    commit, not under the offer's write lock). Returns the job's id."""
    return jobs.enqueue_soon(MATCHES_JOB, {"offer_id": offer.id})


@jobs.handler(MATCHES_JOB)
def _matches_job(payload: dict) -> list[int]:
    """Find the followers ``offer`` matches and notify them (the caller commits)."""
    offer = db.session.get(Offer, payload["offer_id"])
    if offer is None:
        return []
    found = queries.followed_matches(offer)
    if not found:
        return []
    followers = db.session.execute(
        select(OfferFollow.user_id).where(OfferFollow.offer_id.in_([f.id for f, _m in found]))
    ).scalars()
    return directory_notices(
        [user_id for user_id in followers if user_id != offer.author_id],
        DirectoryEvent.MATCH.value,
        subject=offer.title,
        url=mail.external_url("directory.offer", offer_id=offer.id),
        offer_id=offer.id,
    )


def contact(request: ContactRequest, event: DirectoryEvent, user_ids: list[int]) -> int | None:
    """In the request's transaction: the job that tells ``user_ids`` about ``request``
    (a new one, an answer, a mediation). Returns its id (None: nobody to tell)."""
    return notify_directory(
        user_ids,
        event.value,
        subject=request.subject,
        url=mail.external_url("contacts.contact", contact_id=request.id),
        contact_request_id=request.id,
    )


def contact_now(request: ContactRequest, event: DirectoryEvent, user_ids: list[int]) -> None:
    """Tell ``user_ids`` about ``request`` in the current transaction (the caller commits)."""
    directory_notices(
        user_ids,
        event.value,
        subject=request.subject,
        url=mail.external_url("contacts.contact", contact_id=request.id),
        contact_request_id=request.id,
    )
