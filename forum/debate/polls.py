"""Reading polls: results of one poll, and every poll of a thread as its page shows them."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import String, cast, func, literal, null, select, union_all
from sqlalchemy.orm import joinedload

from forum.debate.models import Poll, PollOption, PollVote, PollVoter
from forum.extensions import db
from forum.permissions import Action, can


@dataclass
class PollResults:
    poll: Poll
    counts: dict[int, int]
    voters: int
    mine: set[int]

    def percent(self, option_id: int) -> int:
        """Share of the voters who chose the option, rounded (multiple choice: may sum > 100)."""
        if not self.voters:
            return 0
        return round(100 * self.counts.get(option_id, 0) / self.voters)

    @property
    def voted(self) -> bool:
        return bool(self.mine)


def poll_or_none(poll_id: int) -> Poll | None:
    """The poll with its thread and options (two queries)."""
    return (
        db.session.execute(
            select(Poll)
            .options(joinedload(Poll.thread), joinedload(Poll.options))
            .where(Poll.id == poll_id)
        )
        .unique()
        .scalar()
    )


def poll_results(poll: Poll, viewer) -> PollResults:
    """Votes per option and voters (one query), and the viewer's choices."""
    counts_query = (
        select(PollVote.option_id, func.count())
        .where(PollVote.poll_id == poll.id)
        .group_by(PollVote.option_id)
    )
    voters_query = select(literal(0), func.count()).where(PollVoter.poll_id == poll.id)
    mine_query = None
    queries = [counts_query, voters_query]
    if viewer.is_authenticated:
        mine_query = select(PollVote.option_id, literal(-1)).where(
            PollVote.poll_id == poll.id, PollVote.user_id == viewer.id
        )
        queries.append(mine_query)
    counts, voters, mine = {}, 0, set()
    for option_id, n in db.session.execute(union_all(*queries)).all():
        if n == -1:
            mine.add(option_id)
        elif option_id == 0:
            voters = n
        else:
            counts[option_id] = n
    return PollResults(poll=poll, counts=counts, voters=voters, mine=mine)


@dataclass
class InlinePoll:
    """A poll as the thread page shows it: its options, results and what the reader sees."""

    poll: Poll
    options: list[tuple[int, str]]
    results: PollResults
    #: The reader may see the bars (per the poll's ``results`` setting).
    shows_results: bool


def shows_results(poll: Poll, results: PollResults, viewer) -> bool:
    """Whether ``viewer`` sees the results: always, after voting, or after closing (its
    author and the moderators, who may export them, always see them)."""
    if poll.is_closed() or poll.results == "always" or can(viewer, Action.POLL_EXPORT, poll):
        return True
    return poll.results == "after_vote" and results.voted


def inline_polls(polls: list[Poll], viewer) -> list[InlinePoll]:
    """The thread's polls with their options, votes per option, voters and the viewer's
    choices: one statement for all of them."""
    ids = [poll.id for poll in polls]
    options = (
        select(
            literal("o"),
            PollOption.poll_id,
            PollOption.id,
            PollOption.rank,
            PollOption.label,
            func.count(PollVote.user_id),
        )
        .outerjoin(PollVote, PollVote.option_id == PollOption.id)
        .where(PollOption.poll_id.in_(ids))
        .group_by(PollOption.poll_id, PollOption.id, PollOption.rank, PollOption.label)
    )
    voters = (
        select(
            literal("v"),
            PollVoter.poll_id,
            literal(0),
            literal(0),
            cast(null(), String),
            func.count(),
        )
        .where(PollVoter.poll_id.in_(ids))
        .group_by(PollVoter.poll_id)
    )
    parts = [options, voters]
    if viewer.is_authenticated:
        parts.append(
            select(
                literal("m"),
                PollVote.poll_id,
                PollVote.option_id,
                literal(0),
                cast(null(), String),
                literal(0),
            ).where(PollVote.poll_id.in_(ids), PollVote.user_id == viewer.id)
        )
    found: dict[int, list] = {poll_id: [] for poll_id in ids}
    results = {poll.id: PollResults(poll=poll, counts={}, voters=0, mine=set()) for poll in polls}
    for tag, poll_id, option_id, rank, label, n in db.session.connection().execute(
        union_all(*parts)
    ):
        if tag == "o":
            found[poll_id].append((rank, option_id, label))
            results[poll_id].counts[option_id] = n
        elif tag == "v":
            results[poll_id].voters = n
        else:
            results[poll_id].mine.add(option_id)
    shown = []
    for poll in polls:
        result = results[poll.id]
        options = [(option_id, label) for _rank, option_id, label in sorted(found[poll.id])]
        shown.append(InlinePoll(poll, options, result, shows_results(poll, result, viewer)))
    return shown


def option_ids(poll: Poll) -> set[int]:
    return {option.id for option in poll.options}
