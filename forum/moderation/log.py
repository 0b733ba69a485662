"""Writing the moderation log: one entry per act, in the act's own transaction."""

from __future__ import annotations

import json

from forum.extensions import db
from forum.moderation.models import LogEntry


def record(
    actor,
    action: str,
    *,
    user_id: int | None = None,
    theme_id: int | None = None,
    thread_id: int | None = None,
    post_id: int | None = None,
    reason: str = "",
    **details,
) -> LogEntry:
    """Add the entry for ``action`` by ``actor`` (None: the forum itself); the caller commits."""
    entry = LogEntry(
        actor_id=getattr(actor, "id", None),
        action=action,
        user_id=user_id,
        theme_id=theme_id,
        thread_id=thread_id,
        post_id=post_id,
        reason=(reason or "")[:1000],
        details=json.dumps(details, ensure_ascii=False, sort_keys=True, default=str),
    )
    db.session.add(entry)
    return entry
