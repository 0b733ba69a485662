"""iCalendar export: one VEVENT per session, times in Europe/Paris with their VTIMEZONE.

UIDs depend only on the session id and the site's host, so a calendar that subscribed
once updates its events instead of duplicating them.
"""

from __future__ import annotations

from collections.abc import Iterable

from forum.seminars.models import SeminarStatus, Session
from forum.seminars.services import to_paris


def session_uid(session: Session, host: str) -> str:
    return f"session-{session.id}@{host}"


def build_calendar(
    sessions: Iterable[Session], *, name: str, host: str, url_for_session, stamp
) -> bytes:
    """The ``.ics`` document; ``url_for_session(session)`` gives each event's URL."""
    # Imported here: a worker that never serves a calendar does not carry the library.
    from icalendar import Calendar, Event

    calendar = Calendar()
    calendar.add("prodid", "-//Rencontres sociales//Forum//FR")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", name)
    calendar.add("x-wr-timezone", "Europe/Paris")
    for session in sessions:
        seminar = session.seminar
        event = Event()
        event.add("uid", session_uid(session, host))
        event.add("dtstamp", stamp)
        event.add("dtstart", to_paris(session.starts_at))
        event.add("dtend", to_paris(session.ends_at))
        event.add("summary", f"{session.title} — {seminar.title}")
        place = ", ".join(part for part in (session.room, seminar.venue, seminar.address) if part)
        if place:
            event.add("location", place)
        speakers = "; ".join(
            f"{name} ({organisation})" if organisation else name
            for name, organisation in session.speaker_list
        )
        description = session.kind_label + (f" — {speakers}" if speakers else "")
        event.add("description", description)
        event.add("url", url_for_session(session))
        cancelled = seminar.status == SeminarStatus.CANCELLED
        event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
        calendar.add_component(event)
    calendar.add_missing_timezones()
    return calendar.to_ical()
