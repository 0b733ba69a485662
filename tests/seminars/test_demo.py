"""The demo seminar: loaded through the services, and its pages answer."""

from __future__ import annotations

from sqlalchemy import select

from forum.extensions import db
from forum.search.models import SearchEntry
from forum.seminars.models import Registration, Seminar, Session, SessionThread
from tests.factories import make_user


def test_demo_seminar_pages(app, client, runner):
    result = runner.invoke(args=["forum", "seed-demo"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        seminar = db.session.execute(select(Seminar)).scalar_one()
        assert (seminar.starts_at.month, seminar.starts_at.day) == (3, 31)
        assert seminar.venue == "Amphithéâtre Le d'Artagnan"
        sessions = db.session.execute(select(Session)).scalars().all()
        assert len(sessions) == 5
        assert db.session.execute(select(Registration)).scalars().all()
        kinds = set(db.session.execute(select(SessionThread.kind)).scalars())
        assert kinds == {"preparation", "follow_up"}
        session_ids = [s.id for s in sessions]
        indexed = db.session.execute(
            select(SearchEntry.kind, SearchEntry.object_id).where(
                SearchEntry.kind.in_(["seminar", "session"])
            )
        ).all()
        assert sorted(indexed) == sorted(
            [("seminar", seminar.id)] + [("session", i) for i in session_ids]
        )
        opening_id = next(s.id for s in sessions if s.minutes_published_at is not None)
    assert "Rencontres sociales" in client.get("/").get_data(as_text=True)
    for url in ["/seminars/", f"/seminars/{seminar.id}", "/seminars.ics"] + [
        f"/sessions/{i}" for i in session_ids
    ]:
        assert client.get(url).status_code == 200, url
    # The opening session's minutes ("Compte rendu de la réunion préparatoire…") are searchable.
    found = client.get("/search?q=reunion+preparatoire&kind=seminaires").get_data(as_text=True)
    assert f'id="result-seance-{opening_id}"' in found


def test_set_organiser_command(app, runner):
    make_user(app, "alice")
    result = runner.invoke(args=["forum", "set-organiser", "alice"])
    assert result.exit_code == 0
    assert "peut maintenant organiser" in result.output
