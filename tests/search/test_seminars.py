"""Seminars, sessions and their minutes in /search: stemming, drafts, the kind filter, reindex."""

from __future__ import annotations

import re

import pytest

from forum.accounts.models import User
from forum.extensions import db
from forum.search import services as search
from forum.seminars import services as seminars
from forum.seminars.models import Seminar, Session
from tests.factories import login, make_thread, make_user
from tests.seminars.test_seminars import make_seminar, make_session

RESULT_RE = re.compile(r'id="result-(fil|message|actualite|seminaire|seance)-(\d+)"')


def results(response) -> list[tuple[str, int]]:
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return [(kind, int(n)) for kind, n in RESULT_RE.findall(response.get_data(as_text=True))]


def _client(app, username=None):
    client = app.test_client()
    if username:
        login(client, username)
    return client


def publish_minutes(app, organiser, session_id, text):
    with app.app_context():
        seminars.publish_minutes(
            db.session.get(User, organiser.id), db.session.get(Session, session_id), text
        )


@pytest.fixture
def organiser(app):
    return make_user(app, "orga", role="admin")


@pytest.fixture
def published(app, organiser):
    seminar_id = make_seminar(
        app,
        organiser,
        title="Séminaire des régies de quartier",
        description="Une journée sur l'**insertion** par l'activité économique.",
    )
    session_id = make_session(
        app, organiser, seminar_id, title="Atelier habitat", description="On parle toit."
    )
    publish_minutes(
        app,
        organiser,
        session_id,
        "Les coopératives d'habitants ont présenté leurs réalisations à Villeurbanne.",
    )
    return seminar_id, session_id


def test_session_minutes_found_by_stemmed_unaccented_word(app, published):
    seminar_id, session_id = published
    client = _client(app)
    # "cooperative": singular, no accent; the minutes say "coopératives".
    assert results(client.get("/search?q=cooperative")) == [("seance", session_id)]
    page = client.get("/search?q=cooperative").get_data(as_text=True)
    assert f'href="/sessions/{session_id}"' in page
    assert "<mark>coopératives</mark>" in page
    # The seminar's own description, by a stemmed word too.
    assert results(client.get("/search?q=INSERTIONS")) == [("seminaire", seminar_id)]
    assert f'href="/seminars/{seminar_id}"' in client.get("/search?q=insertion").get_data(
        as_text=True
    )


def test_edits_and_minutes_corrections_are_reindexed(app, organiser, published):
    _seminar_id, session_id = published
    publish_minutes(app, organiser, session_id, "Compte rendu corrigé : les mutuelles.")
    client = _client(app)
    assert results(client.get("/search?q=cooperative")) == []
    assert results(client.get("/search?q=mutuelle")) == [("seance", session_id)]


def test_draft_seminar_hidden_from_members_shown_to_organisers(app, organiser):
    seminar_id = make_seminar(
        app, organiser, status="draft", title="Projet confidentiel de colloque"
    )
    session_id = make_session(app, organiser, seminar_id, title="Table ronde confidentielle")
    make_user(app, "membre")
    for client in (_client(app), _client(app, "membre")):
        assert results(client.get("/search?q=confidentiel")) == []
        assert results(client.get("/search?q=confidentiel&kind=seminaires")) == []
    found = results(_client(app, "orga").get("/search?q=confidentiel"))
    assert sorted(found) == [("seance", session_id), ("seminaire", seminar_id)]


def test_cancelled_seminar_still_found(app, organiser):
    seminar_id = make_seminar(app, organiser, status="cancelled", title="Journée annulée du Puy")
    assert results(_client(app).get("/search?q=ANNULÉE")) == [("seminaire", seminar_id)]


def test_kind_filter(app, organiser, published):
    _seminar_id, session_id = published
    alice = make_user(app, "alice")
    make_thread(app, alice, "urbain", "Coopératives et quartiers", "Rien d'autre ici.")
    client = _client(app)
    everything = results(client.get("/search?q=cooperatives"))
    assert {kind for kind, _ in everything} == {"fil", "seance"}
    assert results(client.get("/search?q=cooperatives&kind=seminaires")) == [("seance", session_id)]
    assert [kind for kind, _ in results(client.get("/search?q=cooperatives&kind=fils"))] == ["fil"]
    assert results(client.get("/search?q=cooperatives&kind=actualites")) == []
    page = client.get("/search?q=cooperatives&kind=seminaires").get_data(as_text=True)
    assert '<option value="seminaires" selected>' in page


def test_theme_filter_keeps_sessions_of_that_theme(app, published):
    _seminar_id, session_id = published  # make_session puts sessions in "urbain"
    client = _client(app)
    assert results(client.get("/search?q=cooperative&theme=urbain")) == [("seance", session_id)]
    assert results(client.get("/search?q=cooperative&theme=services-publics")) == []
    assert results(client.get("/search?q=insertion&theme=urbain")) == []


def test_reindex_covers_seminars_and_sessions(app, published):
    seminar_id, session_id = published
    with app.app_context():
        db.session.execute(search.SearchEntry.__table__.delete())
        db.session.commit()
        assert search.reindex() == 2
        assert db.session.get(Seminar, seminar_id) is not None
    client = _client(app)
    assert results(client.get("/search?q=cooperative")) == [("seance", session_id)]
    assert results(client.get("/search?q=insertion")) == [("seminaire", seminar_id)]
