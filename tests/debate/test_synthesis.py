"""The synthesis: drafted with citations, approved, published, exported, on the session page."""

from __future__ import annotations

from sqlalchemy import update

from forum.accounts.models import User
from forum.db import utcnow
from forum.discussions.models import Post, Thread
from forum.extensions import db
from forum.seminars import services as seminars
from forum.seminars.models import Session
from tests.debate.conftest import reply_with
from tests.factories import make_thread, make_user, opening_post
from tests.seminars.test_seminars import make_seminar, make_session


def test_synthesis_round_from_draft_to_publication(app, client, auth):
    organiser = make_user(app, "orga", role="admin")
    alice, bruno, chloe = (make_user(app, name) for name in ("alice", "bruno", "chloe"))
    make_user(app, "modo", role="moderator")
    thread = make_thread(app, alice, "urbain", "Les tiers-lieux en ville")
    opening = opening_post(app, thread)
    pour = reply_with(app, bruno, thread, position="pour", body="Ils recréent du lien.")
    contre = reply_with(app, chloe, thread, position="contre", body="Ils coûtent cher.")
    secret = reply_with(app, chloe, thread, pour, position="nuance", body="Texte à masquer.")
    auth.login("modo")
    sources = {
        "consensus": f"- Les tiers-lieux recréent du lien [[post:{pour.id}]] [[post:{opening.id}]]",
        "disagreements": f"- Le coût [[post:{contre.id}]] et [[post:{secret.id}]]",
        "questions": "- Qui finance ?",
        "proposals": "",
    }
    bad = client.post_form(
        f"/threads/{thread.id}/synthesis/edit", dict(sources, proposals="- [[post:999999]]")
    )
    assert bad.status_code == 400 and "999999" in bad.get_data(as_text=True)
    assert client.post_form(f"/threads/{thread.id}/synthesis/edit", sources).status_code == 302
    draft = client.get(f"/threads/{thread.id}/synthesis").get_data(as_text=True)
    assert "Brouillon" in draft and "Ils recréent du lien." in draft
    assert f'href="/posts/{pour.id}"' in draft and "citation-excerpt" in draft
    auth.logout()
    assert client.get(f"/threads/{thread.id}/synthesis").status_code == 404  # a draft
    auth.login("bruno")  # a participant approves
    assert client.post_form(f"/threads/{thread.id}/synthesis/approve").status_code == 302
    assert "Approuvée par :" in client.get(f"/threads/{thread.id}/synthesis").get_data(as_text=True)
    assert client.post_form(f"/threads/{thread.id}/synthesis/publish").status_code == 403
    auth.logout()
    with app.app_context():  # a cited post is hidden before publication
        db.session.execute(update(Post).where(Post.id == secret.id).values(hidden_at=utcnow()))
        db.session.commit()
    auth.login("modo")
    assert client.post_form(f"/threads/{thread.id}/synthesis/publish").status_code == 302
    auth.logout()
    page = client.get(f"/threads/{thread.id}").get_data(as_text=True)
    assert "Synthèse du débat" in page and "Points d&#39;accord" in page
    assert "Ils coûtent cher." in page.split('id="synthese"')[1].split("</section>")[0]
    assert "Texte à masquer." not in page and "message retiré" in page
    markdown = client.get(f"/threads/{thread.id}/synthesis.md").get_data(as_text=True)
    assert f"(http://localhost/posts/{pour.id})" in markdown
    assert "> Ils recréent du lien." in markdown and "Texte à masquer" not in markdown
    assert "[message retiré]" in markdown
    feed = client.get(f"/feeds/threads/{thread.id}.atom").get_data(as_text=True)
    assert "Synthèse du débat" in feed
    found = client.get("/search?q=finance").get_data(as_text=True)
    assert "Les tiers-lieux en ville" in found
    # Shown on the seminar session page of which the thread is a suite.
    seminar_id = make_seminar(app, organiser, days=-2)
    session_id = make_session(app, organiser, seminar_id)
    with app.app_context():
        seminars.link_thread(
            db.session.get(User, organiser.id),
            db.session.get(Session, session_id),
            db.session.get(Thread, thread.id),
            "follow_up",
        )
    session_page = client.get(f"/sessions/{session_id}").get_data(as_text=True)
    assert f'id="synthese-{thread.id}"' in session_page and "Ils recréent du lien." in session_page
    # Edits keep revisions.
    auth.login("modo")
    client.post_form(f"/threads/{thread.id}/synthesis/edit", dict(sources, proposals="- Un fonds"))
    history = client.get(f"/threads/{thread.id}/synthesis/history").get_data(as_text=True)
    assert "Qui finance ?" in history and "Version remplacée" in history


def test_thread_author_drafts_only_where_the_theme_allows_it(app, client, auth):
    alice = make_user(app, "alice")
    thread = make_thread(app, alice)
    auth.login("alice")
    assert client.get(f"/threads/{thread.id}/synthesis/edit").status_code == 403
    with app.app_context():
        db.session.get(Thread, thread.id).theme.synthesis_by_authors = True
        db.session.commit()
    assert client.get(f"/threads/{thread.id}/synthesis/edit").status_code == 200


def test_admin_theme_form_sets_the_authors_synthesis_setting(app, client, auth):
    make_user(app, "admin", role="admin")
    auth.login("admin")
    with app.app_context():
        from sqlalchemy import select

        from forum.discussions.models import Theme

        theme = db.session.execute(select(Theme).where(Theme.slug == "urbain")).scalar_one()
        form = {"name": theme.name, "slug": theme.slug, "description": "", "position": "1"}
    response = client.post_form(
        f"/admin/themes/{theme.id}/edit", dict(form, synthesis_by_authors="y")
    )
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(Theme, theme.id).synthesis_by_authors is True


def test_citation_picker_lists_readable_posts_with_their_codes_at_constant_queries(
    app, client, auth, query_counter
):
    alice, bruno = make_user(app, "alice"), make_user(app, "bruno")
    make_user(app, "modo", role="moderator")
    thread = make_thread(app, alice, "urbain", "Les jardins partagés")
    kept = reply_with(app, bruno, thread, body="Un jardin **par quartier**, au moins.")
    gone = reply_with(app, bruno, thread, body="Un message bientôt supprimé.")
    with app.app_context():
        db.session.execute(update(Post).where(Post.id == gone.id).values(deleted_at=utcnow()))
        db.session.commit()
    auth.login("modo")
    url = f"/threads/{thread.id}/synthesis/edit"
    client.get(url)
    with query_counter() as small:
        page = client.get(url).get_data(as_text=True)
    picker = page.split('class="citation-picker"')[1].split("</details>")[0]
    assert f"<code>[[post:{kept.id}]]</code> — <strong>bruno</strong> : Un jardin par quartier" in (
        picker
    )
    assert f"[[post:{opening_post(app, thread).id}]]" in picker
    assert f"[[post:{gone.id}]]" not in picker and "bientôt supprimé" not in picker
    for n in range(12):
        reply_with(app, alice if n % 2 else bruno, thread, kept, body=f"Réponse {n}.")
    with query_counter() as large:
        page = client.get(url).get_data(as_text=True)
    assert page.count('<li id="citable-') == 14
    assert small.count == large.count
