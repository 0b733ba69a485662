"""/search on both databases: French matching, ranking, filters, visibility, hostile input."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from forum.accounts.models import AnonymousUser
from forum.db import utcnow
from forum.discussions import services as discussions
from forum.discussions.models import Post, Thread
from forum.extensions import db
from forum.search import services as search
from forum.search.models import SearchEntry
from forum.search.text import parse_query
from tests.factories import make_reply, make_thread, make_user, opening_post, search_candidate_reads

RESULT_RE = re.compile(r'id="result-(?:fil|message)-(\d+)"')


def entry(post_id: int) -> SearchEntry | None:
    return db.session.execute(
        select(SearchEntry).where(SearchEntry.kind == "post", SearchEntry.object_id == post_id)
    ).scalar()


def result_ids(response) -> list[int]:
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return [int(n) for n in RESULT_RE.findall(response.get_data(as_text=True))]


@pytest.fixture
def corpus(app):
    alice = make_user(app, "alice")
    bruno = make_user(app, "bruno")
    housing = make_thread(
        app,
        alice,
        "urbain",
        "Le logement social dans nos quartiers",
        "Les régies de quartier entretiennent les immeubles.",
    )
    coop = make_thread(
        app,
        bruno,
        "developpement-local",
        "Coopératives et circuits courts",
        "Le développement des coopératives agricoles passe par les circuits courts.",
    )
    reply_housing = make_reply(
        app, bruno, housing, body="Les **logements** vacants pourraient accueillir des familles."
    )
    reply_coop = make_reply(
        app, alice, coop, body="Une coopérative d'habitants, c'est aussi du logement."
    )
    return {
        "alice": alice,
        "bruno": bruno,
        "housing": housing,
        "coop": coop,
        "housing_opening": opening_post(app, housing),
        "coop_opening": opening_post(app, coop),
        "reply_housing": reply_housing,
        "reply_coop": reply_coop,
    }


def test_accents_and_case_are_folded(client, corpus):
    ids = result_ids(client.get("/search?q=DEVELOPPEMENT"))
    assert ids == [corpus["coop_opening"].id]


def test_plural_finds_singular_and_back(client, corpus):
    ids = result_ids(client.get("/search?q=logements"))
    assert set(ids) == {
        corpus["housing_opening"].id,
        corpus["reply_housing"].id,
        corpus["reply_coop"].id,
    }
    assert corpus["coop_opening"].id in result_ids(client.get("/search?q=coopérative"))


def test_title_match_ranks_first(client, corpus):
    """ "logement" in a thread title outranks the same word in a reply body."""
    ids = result_ids(client.get("/search?q=logement"))
    assert ids[0] == corpus["housing_opening"].id


def test_phrase_and_exclusion(client, corpus):
    assert result_ids(client.get('/search?q="circuits courts"')) == [corpus["coop_opening"].id]
    assert result_ids(client.get('/search?q="courts circuits"')) == []
    ids = result_ids(client.get("/search?q=logement -coopérative"))
    assert corpus["reply_coop"].id not in ids and corpus["housing_opening"].id in ids


def test_snippet_is_highlighted_and_escaped(app, client, corpus):
    make_reply(app, corpus["alice"], corpus["housing"], body="`<script>alert(1)</script>` logement")
    page = client.get("/search?q=logement").get_data(as_text=True)
    assert "<mark>logements</mark>" in page
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; <mark>logement</mark>" in page
    assert "Le <mark>logement</mark> social dans nos quartiers" in page


def test_result_shows_theme_author_date(client, corpus):
    page = client.get("/search?q=vacants").get_data(as_text=True)
    assert "Le logement social dans nos quartiers" in page
    assert "Urbain" in page and "bruno" in page and "<time" in page


def test_filters(app, client, corpus):
    both = {corpus["housing_opening"].id, corpus["reply_housing"].id, corpus["reply_coop"].id}
    assert set(result_ids(client.get("/search?q=logement&theme=urbain"))) == {
        corpus["housing_opening"].id,
        corpus["reply_housing"].id,
    }
    assert set(result_ids(client.get("/search?q=logement&author=Alice"))) == {
        corpus["housing_opening"].id,
        corpus["reply_coop"].id,
    }
    assert result_ids(client.get("/search?q=logement&kind=fils")) == [corpus["housing_opening"].id]
    assert set(result_ids(client.get("/search?q=logement&kind=messages"))) == {
        corpus["reply_housing"].id,
        corpus["reply_coop"].id,
    }
    with app.app_context():
        db.session.execute(
            update(Post)
            .where(Post.id == corpus["reply_coop"].id)
            .values(created_at=utcnow() - timedelta(days=60))
        )
        db.session.commit()
    assert set(result_ids(client.get("/search?q=logement&since=30d"))) == both - {
        corpus["reply_coop"].id
    }
    assert set(result_ids(client.get("/search?q=logement&since=365d"))) == both
    page = client.get("/search?q=logement&author=personne")
    assert page.status_code == 200
    assert "Aucun compte ne porte le pseudo" in page.get_data(as_text=True)


def test_index_follows_edit_and_delete(app, client, corpus):
    reply_id = corpus["reply_housing"].id
    with app.app_context():
        post = db.session.get(Post, reply_id)
        author = post.author
        discussions.edit_post(author, post, "Parlons plutôt de mobilité douce.")
    assert reply_id not in result_ids(client.get("/search?q=vacants"))
    assert result_ids(client.get("/search?q=mobilités")) == [reply_id]
    with app.app_context():
        post = db.session.get(Post, reply_id)
        discussions.delete_post(post.author, post)
        assert entry(reply_id) is None
    assert result_ids(client.get("/search?q=mobilité")) == []


def test_deleted_posts_never_appear_even_if_indexed(app, client, corpus):
    """Visibility is checked on the posts themselves, not trusted to the index."""
    with app.app_context():
        db.session.execute(
            update(Post)
            .where(Post.id == corpus["reply_housing"].id)
            .values(deleted_at=Post.created_at)
        )
        db.session.commit()
        assert entry(corpus["reply_housing"].id) is not None
    assert corpus["reply_housing"].id not in result_ids(client.get("/search?q=vacants"))


def test_reindex_command_rebuilds(app, runner, client, corpus):
    with app.app_context():
        db.session.execute(SearchEntry.__table__.delete())
        db.session.commit()
    assert result_ids(client.get("/search?q=logement")) == []
    result = runner.invoke(args=["forum", "reindex"])
    assert result.exit_code == 0, result.output
    assert "4 message(s), actualité(s), séminaire(s) et séance(s) indexé(s)" in result.output
    assert len(result_ids(client.get("/search?q=logement"))) == 3


def test_recent_first_on_equal_score(app, client):
    alice, bob = make_user(app, "alice"), make_user(app, "bob")
    thread = make_thread(app, alice, title="Un fil sans le mot cherché")
    first = make_reply(app, alice, thread, body="Parlons mutuelle.")
    second = make_reply(app, bob, thread, body="Parlons mutuelle.")  # same text, another author
    assert result_ids(client.get("/search?q=mutuelle")) == [second.id, first.id]


def test_pagination(app, client):
    app.config["FORUM_SEARCH_RESULTS_PER_PAGE"] = 3
    alice = make_user(app, "alice")
    thread = make_thread(app, alice, title="Un fil pour paginer")
    for n in range(7):
        make_reply(app, alice, thread, body=f"Tiers-lieu numéro {n}.")
    assert len(result_ids(client.get("/search?q=tiers-lieu"))) == 3
    page3 = client.get("/search?q=tiers-lieu&page=3")
    assert len(result_ids(page3)) == 1
    assert "7 résultats" in page3.get_data(as_text=True)
    beyond = client.get("/search?q=tiers-lieu&page=40")
    assert result_ids(beyond) == result_ids(page3)
    assert "Page 3 sur 3" in beyond.get_data(as_text=True)
    assert "0 résultat" in client.get("/search?q=introuvable&page=5").get_data(as_text=True)


def test_empty_query_shows_the_form(client):
    page = client.get("/search")
    assert page.status_code == 200
    assert 'name="q"' in page.get_data(as_text=True)


HOSTILE = [
    '"',
    '"""',
    "logement\"'",
    "*",
    "logem*",
    "NEAR(logement social)",
    "logement NEAR social",
    "logement AND OR NOT",
    "AND",
    "OR OR",
    "-",
    "--",
    "-logement",
    "'; DROP TABLE posts; --",
    "1' OR '1'='1",
    "logement) OR (1=1",
    "title:logement",
    "^logement",
    "{title body}: logement",
    "logement\x00social",
    "\x00",
    "?",
    "!!",
    "&|!<->",
    "'simple'::regconfig",
    ":term0",
    "logement " * 600,
    "x" * 5000,
    "é" * 499,
    "🙂 logement",
]


@pytest.mark.parametrize("query", HOSTILE)
def test_hostile_queries_never_fail(client, corpus, query):
    response = client.get("/search", query_string={"q": query, "page": "-3"})
    assert response.status_code in (200, 400)
    page = response.get_data(as_text=True)
    for leak in ("Traceback", "syntax error", "fts5", "OperationalError", "ProgrammingError"):
        assert leak not in page
    if response.status_code == 400:
        assert 'class="notice search-error"' in page


@pytest.mark.parametrize(
    "args",
    [
        {"author": "\x00"},
        {"author": "a" * 5000},
        {"author": "' OR 1=1 --"},
        {"theme": "\x00"},
        {"theme": "../../etc"},
        {"since": "-1d"},
        {"since": "99999999999d"},
        {"kind": "\x00"},
        {"page": "99999999999999999999"},
        {"page": "\x00"},
    ],
)
def test_hostile_filters_never_fail(client, corpus, args):
    response = client.get("/search", query_string={"q": "logement", **args})
    assert response.status_code == 200


def test_query_count_is_constant(app, client, corpus, query_counter):
    for n in range(10):
        make_reply(app, corpus["alice"], corpus["housing"], body=f"Un logement de plus, n°{n}.")
    client.get("/search?q=logement")
    with query_counter() as few:
        client.get("/search?q=logement&theme=urbain&since=30d&kind=messages")
    with query_counter() as many:
        client.get("/search?q=logement&author=alice")
    first = search_candidate_reads(app)
    # themes, page of (kind, id) with the candidates' count, the posts with threads,
    # themes and authors
    assert few.count == 3 + first
    # + the author looked up by pseudo
    assert many.count == 4 + first
    # nothing to read: SQLite counts the candidates apart, PostgreSQL knows there are none
    with query_counter() as none:
        client.get("/search?q=introuvable")
    assert none.count == 3


def test_only_the_most_recent_matches_are_ranked(app, client, corpus):
    """Past ``examine`` matches, older ones are left out, and the reader is told so."""
    older = make_reply(app, corpus["alice"], corpus["coop"], body="Une mutuelle, plus ancienne.")
    posts = [
        make_reply(app, corpus["bruno"], corpus["coop"], body=f"Mutuelle de quartier n°{n}.")
        for n in range(5)
    ]
    newest = [p.id for p in reversed(posts)]
    with app.app_context():
        page = search.search(AnonymousUser(), parse_query("mutuelle"), search.Filters(), 1, 20, 3)
        assert [r.item.id for r in page.items] == newest[:3]
        assert (page.total, page.capped) == (3, True)
        page = search.search(AnonymousUser(), parse_query("mutuelle"), search.Filters(), 1, 20, 6)
        assert [r.item.id for r in page.items][:5] == newest
        assert (page.total, page.capped) == (6, True)
        page = search.search(AnonymousUser(), parse_query("mutuelle"), search.Filters(), 1, 20, 7)
        assert (page.total, page.capped) == (6, False)
        # A filter looks FILTERED_SCAN_FACTOR times further back: an older post comes back.
        alice = db.session.get(type(corpus["alice"]), corpus["alice"].id)
        query, by_alice = parse_query("mutuelle"), search.Filters(author=alice)
        assert search.search(AnonymousUser(), query, search.Filters(), 1, 20, 2).total == 2
        page = search.search(AnonymousUser(), query, by_alice, 1, 20, 2)
        assert [r.item.id for r in page.items] == [older.id]
        assert page.capped is False
    text = client.get("/search?q=mutuelle").get_data(as_text=True)
    assert "6 résultats" in text and "les plus récents" not in text


def test_capped_search_says_so(make_app):
    app = make_app(FORUM_SEARCH_CANDIDATES=2)
    alice = make_user(app, "alice")
    thread = make_thread(app, alice, "urbain", "Mutuelles", "Une mutuelle de quartier.")
    for n in range(3):
        make_reply(app, alice, thread, body=f"Encore une mutuelle, n°{n}.")
    text = app.test_client().get("/search?q=mutuelle").get_data(as_text=True)
    assert "2 résultats — parmi les messages les plus récents qui correspondent" in text


def test_search_service_respects_filters_directly(app, corpus):
    with app.app_context():
        page = search.search(
            AnonymousUser(),
            parse_query("logement"),
            search.Filters(kind="fils"),
            page=1,
            per_page=10,
        )
        assert [r.item.id for r in page.items] == [corpus["housing_opening"].id]
        assert db.session.execute(select(Thread.title)).first()
