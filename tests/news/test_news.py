"""News: admins publish, everyone reads; home, search and the Atom feed show them."""

from __future__ import annotations

import re

import feedparser
from sqlalchemy import select

from forum.extensions import db
from forum.news.models import News
from tests.factories import make_thread, make_user

NEWS_RESULT_RE = re.compile(r'id="result-actualite-(\d+)"')


def publish(
    client,
    title="Les Rencontres sociales du 31 mars",
    body="Rendez-vous à l'**amphithéâtre**.",
    theme="",
):
    return client.post_form("/news/new", {"title": title, "body": body, "theme": theme})


def test_admin_publishes_and_everyone_reads(app, client, auth):
    make_user(app, "admin", role="admin")
    auth.login("admin")
    response = publish(client, theme="urbain")
    assert response.status_code == 302
    with app.app_context():
        news = db.session.execute(select(News)).scalar_one()
        assert news.body_html == "<p>Rendez-vous à l'<strong>amphithéâtre</strong>.</p>\n"
        assert news.theme.slug == "urbain"
    auth.logout()
    page = client.get(f"/news/{news.id}").get_data(as_text=True)
    assert "<strong>amphithéâtre</strong>" in page and "Urbain" in page
    assert "Les Rencontres sociales du 31 mars" in client.get("/news").get_data(as_text=True)
    assert client.get("/news/99999999999").status_code == 404
    assert client.get(f"/news/{news.id + 1}").status_code == 404
    home = client.get("/").get_data(as_text=True)
    assert f'href="/news/{news.id}"' in home
    assert 'href="/feeds/news.atom"' in home


def test_members_may_not_publish(app, client, auth):
    make_user(app, "alice")
    assert client.get("/news/new").status_code == 302  # to the login page
    auth.login("alice")
    assert client.get("/news/new").status_code == 403
    assert publish(client).status_code == 403
    assert "Publier une actualité" not in client.get("/news").get_data(as_text=True)


def test_bad_news_is_refused_with_a_message(app, client, auth):
    make_user(app, "admin", role="admin")
    auth.login("admin")
    response = publish(client, title="Oui")
    assert response.status_code == 400
    assert "Le titre doit faire entre 5 et 150 caractères." in response.get_data(as_text=True)
    assert publish(client, theme="inconnu").status_code == 400


def test_news_in_search_and_feed(app, client, auth):
    alice = make_user(app, "alice")
    make_user(app, "admin", role="admin")
    make_thread(app, alice, "urbain", "Coopératives d'habitants", "Le logement coopératif avance.")
    auth.login("admin")
    publish(
        client,
        "Un séminaire sur les coopératives",
        "Les coopératives se retrouvent.",
        "developpement-local",
    )
    auth.logout()
    page = client.get("/search?q=coopérative").get_data(as_text=True)
    assert len(NEWS_RESULT_RE.findall(page)) == 1
    assert "result-fil-" in page
    only_news = client.get("/search?q=coopérative&kind=actualites").get_data(as_text=True)
    assert len(NEWS_RESULT_RE.findall(only_news)) == 1 and "result-fil-" not in only_news
    threads = client.get("/search?q=coopérative&kind=fils").get_data(as_text=True)
    assert not NEWS_RESULT_RE.findall(threads)
    by_theme = client.get("/search?q=coopérative&theme=urbain").get_data(as_text=True)
    assert not NEWS_RESULT_RE.findall(by_theme)
    by_author = client.get("/search?q=coopérative&author=admin").get_data(as_text=True)
    assert len(NEWS_RESULT_RE.findall(by_author)) == 1 and "result-fil-" not in by_author

    response = client.get("/feeds/news.atom")
    feed = feedparser.parse(response.data)
    assert not feed.bozo
    assert [e.title for e in feed.entries] == ["Un séminaire sur les coopératives"]
    assert feed.entries[0].link.startswith("http://localhost/news/")
    assert feed.entries[0].content[0].value.strip() == "<p>Les coopératives se retrouvent.</p>"


def test_reindex_covers_news(app, client, auth, runner):
    make_user(app, "admin", role="admin")
    auth.login("admin")
    publish(client, "Assemblée des mutuelles", "Les mutuelles de santé se réunissent.")
    result = runner.invoke(args=["forum", "reindex"])
    assert "1 message(s), actualité(s), séminaire(s) et séance(s) indexé(s)" in result.output
    assert NEWS_RESULT_RE.findall(client.get("/search?q=mutuelle").get_data(as_text=True))
