"""Discussion pages over HTTP: theme pages, new threads, replies, quotes, edits, deletion, limits.

Every refusal is checked twice: the answer (status, message) and the database (nothing changed).
"""

from __future__ import annotations

import re
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy import event, func, select, text, update

from forum.db import utcnow
from forum.discussions.models import Post, PostRevision, Theme, Thread
from forum.extensions import db
from tests.factories import PASSWORD, login, make_reply, make_thread, make_user, opening_post


def post_ids(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'id="post-(\d+)"', html)]


def thread_ids(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'class="thread-title" href="/threads/(\d+)"', html)]


def count(app, model, *where) -> int:
    with app.app_context():
        stmt = select(func.count()).select_from(model)
        return db.session.execute(stmt.where(*where) if where else stmt).scalar_one()


def set_thread(app, thread, **values) -> None:
    with app.app_context():
        db.session.execute(update(Thread).where(Thread.id == thread.id).values(**values))
        db.session.commit()


def set_theme(app, slug, **values) -> None:
    with app.app_context():
        db.session.execute(update(Theme).where(Theme.slug == slug).values(**values))
        db.session.commit()


def get_row(app, model, ident):
    with app.app_context():
        row = db.session.get(model, ident)
        db.session.expunge(row)
        return row


def theme_counts(app, slug="services-publics") -> tuple[int, int]:
    with app.app_context():
        theme = db.session.execute(select(Theme).where(Theme.slug == slug)).scalar_one()
        return theme.thread_count, theme.post_count


@pytest.fixture
def alice(app):
    return make_user(app, "alice")


@pytest.fixture
def thread(app, alice):
    return make_thread(app, alice, title="Les services publics en zone rurale", body="Ouverture.")


# -- theme page -------------------------------------------------------------------------------


@pytest.mark.parametrize("slug", ["nulle-part", "a%00b", "x" * 500, "%C3%A9t%C3%A9"])
def test_theme_page_unknown_slug_is_404(client, auth, slug):
    assert client.get(f"/themes/{slug}").status_code == 404
    make_user(client.application, "alice")
    auth.login("alice")
    assert client.get(f"/themes/{slug}/new").status_code == 404


def test_theme_page_lists_pinned_first_then_by_last_activity(app, client, alice):
    now = utcnow()
    old = make_thread(app, alice, title="Un fil ancien")
    recent = make_thread(app, alice, title="Un fil récent")
    pinned = make_thread(app, alice, title="Un fil épinglé")
    middle = make_thread(app, alice, title="Un fil du milieu")
    elsewhere = make_thread(app, alice, theme="urbain", title="Un fil urbain")
    set_thread(app, old, last_post_at=now - timedelta(days=10))
    set_thread(app, recent, last_post_at=now - timedelta(minutes=5))
    set_thread(app, pinned, last_post_at=now - timedelta(days=20), pinned=True)
    set_thread(app, middle, last_post_at=now - timedelta(hours=3))

    page = client.get("/themes/services-publics")

    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert thread_ids(html) == [pinned.id, recent.id, middle.id, old.id]
    assert elsewhere.id not in thread_ids(html)
    assert "Épinglé" in html


def test_theme_page_shows_title_author_replies_and_activity_in_words(app, client, alice):
    bob = make_user(app, "bob")
    fresh = make_thread(app, alice, title="Un fil tout frais")
    older = make_thread(app, bob, title="Un fil plus ancien")
    make_reply(app, alice, older)
    make_reply(app, alice, older)
    set_thread(app, older, last_post_at=utcnow() - timedelta(hours=3))

    html = client.get("/themes/services-publics").get_data(as_text=True)

    assert "Un fil tout frais" in html
    assert "Un fil plus ancien" in html
    assert '<a href="/users/alice">alice</a>' in html
    assert '<a href="/users/bob">bob</a>' in html
    assert "0 réponse" in html
    assert "2 réponses" in html
    assert "à l&#39;instant" in html
    assert "il y a 3 heures" in html
    assert f'href="/threads/{fresh.id}"' in html


def test_theme_page_is_paginated(make_app):
    app = make_app(FORUM_THREADS_PER_PAGE=2)
    client = app.test_client()
    author = make_user(app, "alice")
    threads = [make_thread(app, author) for _ in range(5)]

    pages = [client.get(f"/themes/services-publics?page={n}") for n in (1, 2, 3)]

    assert [p.status_code for p in pages] == [200, 200, 200]
    seen = [i for p in pages for i in thread_ids(p.get_data(as_text=True))]
    assert seen == [t.id for t in reversed(threads)]  # newest activity first, each once
    assert "Page 1 sur 3" in pages[0].get_data(as_text=True)
    assert 'rel="next" href="/themes/services-publics?page=2"' in pages[0].get_data(as_text=True)


def test_deep_theme_pages_keep_order_and_visibility(make_app):
    """Deep pages take their slice on the index of visible threads: same order, nothing leaks."""
    app = make_app(FORUM_THREADS_PER_PAGE=2)
    alice, bruno = make_user(app, "alice"), make_user(app, "bruno")
    threads = [make_thread(app, alice if n % 2 else bruno) for n in range(7)]
    pinned, hidden = threads[0], threads[3]  # bruno's oldest, alice's fourth
    with app.app_context():
        db.session.execute(update(Thread).where(Thread.id == pinned.id).values(pinned=True))
        db.session.execute(update(Thread).where(Thread.id == hidden.id).values(hidden_at=utcnow()))
        db.session.commit()
    newest_first = [t.id for t in reversed(threads) if t.id != pinned.id]

    def listing(client) -> list[int]:
        pages = [client.get(f"/themes/services-publics?page={n}") for n in (1, 2, 3, 4)]
        return [i for p in pages for i in thread_ids(p.get_data(as_text=True))]

    visible = [pinned.id] + [i for i in newest_first if i != hidden.id]
    assert listing(app.test_client()) == visible
    client = app.test_client()
    login(client, "alice")
    assert listing(client) == [pinned.id, *newest_first]


@pytest.mark.parametrize(
    ("raw", "expected_page"),
    [
        ("abc", 1),
        ("-1", 1),
        ("0", 1),
        ("", 1),
        ("1e9", 1),
        ("2.5", 1),
        ("%00", 1),
        ("99999", 3),
        ("9" * 40, 3),
        ("-" + "9" * 40, 1),
    ],
)
def test_theme_page_bad_page_numbers_never_fail(make_app, raw, expected_page):
    app = make_app(FORUM_THREADS_PER_PAGE=2)
    author = make_user(app, "alice")
    for _ in range(5):
        make_thread(app, author)

    page = app.test_client().get(f"/themes/services-publics?page={raw}")

    assert page.status_code == 200
    assert f"Page {expected_page} sur 3" in page.get_data(as_text=True)


def test_empty_theme_page(client):
    page = client.get("/themes/urbain?page=7")
    assert page.status_code == 200
    assert "Aucun fil dans ce thème" in page.get_data(as_text=True)


def test_archived_theme_is_still_readable(app, client, auth, alice, thread):
    set_theme(app, "services-publics", archived_at=utcnow())
    auth.login("alice")

    page = client.get("/themes/services-publics")

    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Ce thème est archivé" in html
    assert thread.title in html
    assert "/themes/services-publics/new" not in html
    assert client.get(f"/threads/{thread.id}").status_code == 200


# -- new thread -------------------------------------------------------------------------------


def test_new_thread_redirects_to_the_new_thread(app, client, auth, alice):
    auth.login("alice")

    form = client.get("/themes/services-publics/new")
    response = client.post_form(
        "/themes/services-publics/new",
        {"title": "  Mutuelles   et comités d'entreprise ", "body": "Quelles *coopérations* ?"},
    )

    assert form.status_code == 200
    assert response.status_code == 302
    with app.app_context():
        thread = db.session.execute(select(Thread)).scalar_one()
        assert response.headers["Location"] == f"/threads/{thread.id}"
        assert thread.title == "Mutuelles et comités d'entreprise"
        assert thread.author_id == alice.id
        post = db.session.execute(select(Post)).scalar_one()
        assert post.body_source == "Quelles *coopérations* ?"
    assert theme_counts(app) == (1, 1)
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Mutuelles et comités d&#39;entreprise" in page
    assert "<em>coopérations</em>" in page


def test_new_thread_anonymous_is_sent_to_login(app, client):
    form = client.get("/themes/services-publics/new")
    posted = client.post_form("/themes/services-publics/new", {"title": "Bonjour", "body": "Hé"})

    for response in (form, posted):
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/auth/login?next=")
    assert count(app, Thread) == 0


@pytest.mark.parametrize(
    ("title", "body", "message"),
    [
        ("Quat", "Un corps valable", "entre 5 et 150 caractères"),
        ("x" * 151, "Un corps valable", "entre 5 et 150 caractères"),
        ("x" * 301, "Un corps valable", "300 caractères"),
        ("     ", "Un corps valable", "entre 5 et 150 caractères"),
        ("", "Un corps valable", "Ce champ est obligatoire"),
        ("Titre\x00nul", "Un corps valable", "caractère nul"),
        ("Un bon titre", "", "Ce champ est obligatoire"),
        ("Un bon titre", "  \n\t ", "Le message est vide"),
        ("Un bon titre", "corps\x00nul", "caractère nul"),
        ("Un bon titre", "x" * 50_001, "la limite est de"),
    ],
    ids=[
        "title-4", "title-151", "title-301", "title-blank", "title-missing", "title-nul",
        "body-missing", "body-blank", "body-nul", "body-50001",
    ],
)  # fmt: skip
def test_new_thread_bad_input_is_400_with_a_french_message(
    app, client, auth, alice, title, body, message
):
    auth.login("alice")

    response = client.post_form("/themes/services-publics/new", {"title": title, "body": body})

    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert count(app, Thread) == count(app, Post) == 0
    assert theme_counts(app) == (0, 0)


def test_new_thread_title_of_150_characters_is_accepted(app, client, auth, alice):
    auth.login("alice")
    response = client.post_form(
        "/themes/services-publics/new", {"title": "é" * 150, "body": "x" * 50_000}
    )
    assert response.status_code == 302
    assert count(app, Thread) == 1


def test_new_thread_in_an_archived_theme_is_403(app, client, auth, alice):
    set_theme(app, "urbain", archived_at=utcnow())
    auth.login("alice")

    form = client.get("/themes/urbain/new")
    posted = client.post_form("/themes/urbain/new", {"title": "Un titre", "body": "Un corps"})

    assert form.status_code == posted.status_code == 403
    assert count(app, Thread) == 0


def test_new_thread_without_csrf_token_is_refused(app, client, auth, alice):
    auth.login("alice")
    response = client.post(
        "/themes/services-publics/new", data={"title": "Un titre", "body": "Un corps"}
    )
    assert response.status_code == 400
    assert count(app, Thread) == 0


# -- thread page ------------------------------------------------------------------------------


def test_thread_page_shows_each_post_with_author_date_and_permalink(app, client, alice, thread):
    bob = make_user(app, "bob")
    reply = make_reply(app, bob, thread, body="Je *réponds*.")
    root = opening_post(app, thread)

    page = client.get(f"/threads/{thread.id}")

    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert post_ids(html) == [root.id, reply.id]
    assert "<h1>Les services publics en zone rurale</h1>" in html
    for post, author in ((root, "alice"), (reply, "bob")):
        article = html[html.index(f'id="post-{post.id}"') :]
        article = article[: article.index("</article>")]
        assert f'href="/users/{author}">{author}</a>' in article
        assert f'class="permalink" href="/posts/{post.id}"' in article
        assert '<time datetime="' in article
    assert "<em>réponds</em>" in html
    assert "modifié" not in html


def test_thread_page_unknown_is_404(client):
    assert client.get("/threads/424242").status_code == 404


@pytest.mark.parametrize(
    "url",
    [
        "/threads/99999999999999999999",
        "/threads/2147483648",
        "/threads/1/branch/99999999999999999999",
        "/posts/99999999999999999999",
        "/posts/2147483648",
        "/posts/99999999999999999999/history",
    ],
)
def test_ids_beyond_the_integer_range_are_404_not_500(client, thread, url):
    assert client.get(url).status_code == 404


@pytest.mark.parametrize(
    ("url", "status", "error"),
    [
        ("/posts/99999999999999999999/edit", 404, False),
        ("/posts/99999999999999999999/delete", 404, False),
        ("/threads/{tid}/reply?quote=99999999999999999999", 200, False),
        ("/threads/{tid}/reply?quote=-3&parent_id=abc", 200, False),
        ("/threads/{tid}/reply?parent_id=99999999999999999999", 200, True),
        ("/threads/{tid}/reply?parent_id=-5", 200, True),
    ],
)
def test_out_of_range_ids_for_members_never_fail(client, auth, alice, thread, url, status, error):
    auth.login("alice")
    response = client.get(url.format(tid=thread.id))
    assert response.status_code == status
    html = response.get_data(as_text=True).replace("&#39;", "'")
    assert ("n'existe pas dans ce fil" in html) is error
    assert "a écrit" not in html


def test_script_in_body_and_title_is_escaped(app, client, alice):
    thread = make_thread(app, alice, title="<script>alert('t')</script>", body="Ouverture")
    make_reply(app, alice, thread, body="<script>alert('b')</script> <img src=x onerror=alert(1)>")

    for url in (f"/threads/{thread.id}", "/themes/services-publics", "/"):
        html = client.get(url).get_data(as_text=True)
        assert "<script>alert" not in html
        assert "&lt;script&gt;alert(" in html
    html = client.get(f"/threads/{thread.id}").get_data(as_text=True)
    assert "&lt;img src=x onerror=alert(1)&gt;" in html  # shown as text
    assert "<img" not in html


# -- replies ----------------------------------------------------------------------------------


def test_reply_to_the_thread_and_to_a_post(app, client, auth, alice, thread):
    bob = make_user(app, "bob")
    auth.login("bob")
    root = opening_post(app, thread)

    first = client.post_form(f"/threads/{thread.id}/reply", {"body": "Première réponse"})
    with app.app_context():
        first_post = db.session.execute(select(Post).where(Post.depth == 1)).scalar_one()
    nested = client.post_form(
        f"/threads/{thread.id}/reply", {"body": "Réponse imbriquée", "parent_id": first_post.id}
    )

    assert first.status_code == nested.status_code == 302
    assert first.headers["Location"] == f"/posts/{first_post.id}"
    with app.app_context():
        posts = db.session.execute(select(Post).order_by(Post.path)).scalars().all()
        assert [(p.parent_id, p.depth, p.author_id) for p in posts] == [
            (None, 0, alice.id),
            (root.id, 1, bob.id),
            (first_post.id, 2, bob.id),
        ]
        assert nested.headers["Location"] == f"/posts/{posts[2].id}"
        row = db.session.get(Thread, thread.id)
        assert row.reply_count == 2
        assert row.last_post_author_id == bob.id
        assert row.last_post_at == posts[2].created_at
    assert theme_counts(app) == (1, 3)
    landing = client.get(nested.headers["Location"])
    assert landing.headers["Location"] == f"/threads/{thread.id}#post-{posts[2].id}"


def test_counters_after_n_replies_over_http(app, client, auth, alice, thread):
    auth.login("alice")
    for n in range(6):
        response = client.post_form(f"/threads/{thread.id}/reply", {"body": f"Réponse {n}"})
        assert response.status_code == 302
    assert get_row(app, Thread, thread.id).reply_count == 6
    assert theme_counts(app) == (1, 7)
    assert count(app, Post, Post.thread_id == thread.id) == 7
    page = client.get(f"/threads/{thread.id}").get_data(as_text=True)
    assert "6 réponses" in page
    assert len(post_ids(page)) == 7


def test_concurrent_replies_lose_no_count(app, alice, thread):
    """Members replying at the same time to the same post: every counter sees every reply."""
    members, per_member = 4, 5
    clients = []
    for n in range(members):
        make_user(app, f"membre{n}")
        client = app.test_client()
        assert client.post_form(
            "/auth/login", {"login": f"membre{n}", "password": PASSWORD}
        ).status_code == 302  # fmt: skip
        clients.append(client)
    root = opening_post(app, thread)
    barrier = threading.Barrier(members, timeout=30)

    def write(client) -> list[int]:
        token = client.csrf_token()
        barrier.wait()
        return [
            client.post(
                f"/threads/{thread.id}/reply",
                data={"body": f"Réponse {n}", "parent_id": root.id, "csrf_token": token},
            ).status_code
            for n in range(per_member)
        ]

    with ThreadPoolExecutor(members) as pool:
        statuses = [status for result in pool.map(write, clients) for status in result]

    total = members * per_member
    assert statuses == [302] * total
    assert get_row(app, Thread, thread.id).reply_count == total
    assert get_row(app, Post, root.id).child_count == total
    assert theme_counts(app) == (1, total + 1)
    with app.app_context():
        paths = db.session.execute(select(Post.path).where(Post.depth == 1)).scalars().all()
    assert sorted(paths) == [f"{rank:06d}" for rank in range(1, total + 1)]


def test_reply_with_a_parent_of_another_thread_is_400(app, client, auth, alice, thread):
    other = make_thread(app, alice)
    foreign = make_reply(app, alice, other)
    auth.login("alice")

    response = client.post_form(
        f"/threads/{thread.id}/reply", {"body": "Égarée", "parent_id": foreign.id}
    )

    assert response.status_code == 400
    assert "n'existe pas dans ce fil" in response.get_data(as_text=True).replace("&#39;", "'")
    assert count(app, Post) == 3
    assert get_row(app, Thread, thread.id).reply_count == 0
    assert get_row(app, Post, foreign.id).child_count == 0
    assert theme_counts(app) == (2, 3)


@pytest.mark.parametrize("parent_id", ["424242", "abc", "-1", "0", "99999999999999999999"])
def test_reply_with_a_bad_parent_id_is_400(app, client, auth, alice, thread, parent_id):
    auth.login("alice")
    response = client.post_form(
        f"/threads/{thread.id}/reply", {"body": "Réponse", "parent_id": parent_id}
    )
    assert response.status_code == 400
    assert count(app, Post) == 1


def test_reply_to_a_deleted_post_is_refused(app, client, auth, alice, thread):
    target = make_reply(app, alice, thread, body="Un texte retiré")
    auth.login("alice")
    assert client.post_form(f"/posts/{target.id}/delete").status_code == 302

    form = client.get(f"/threads/{thread.id}/reply?parent_id={target.id}")
    response = client.post_form(
        f"/threads/{thread.id}/reply", {"body": "Trop tard", "parent_id": target.id}
    )

    assert response.status_code == 400
    assert "Ce message a été supprimé" in response.get_data(as_text=True)
    # The reply page does not show the deleted text it would have answered.
    for page in (form, response):
        assert "Un texte retiré" not in page.get_data(as_text=True)
    assert count(app, Post) == 2
    assert get_row(app, Post, target.id).child_count == 0
    assert get_row(app, Thread, thread.id).reply_count == 1


def test_reply_in_a_locked_thread(app, client, auth, alice, thread):
    make_user(app, "modo", role="moderator")
    set_thread(app, thread, locked=True)
    auth.login("alice")

    form = client.get(f"/threads/{thread.id}/reply")
    refused = client.post_form(f"/threads/{thread.id}/reply", {"body": "Je force"})
    page = client.get(f"/threads/{thread.id}").get_data(as_text=True)

    assert form.status_code == refused.status_code == 403
    assert count(app, Post) == 1
    assert get_row(app, Thread, thread.id).reply_count == 0
    assert "Ce fil est verrouillé" in page
    assert "Publier la réponse" not in page

    auth.logout()
    auth.login("modo")
    assert (
        client.post_form(f"/threads/{thread.id}/reply", {"body": "Modération"}).status_code == 302
    )
    assert count(app, Post) == 2


def test_reply_anonymous_is_sent_to_login(app, client, thread):
    response = client.post_form(f"/threads/{thread.id}/reply", {"body": "Anonyme"})
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/auth/login")
    assert count(app, Post) == 1


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("", "Ce champ est obligatoire"),
        ("   \r\n  \t", "Le message est vide"),
        ("\x00", "caractère nul"),
        ("du texte\x00 avec un nul", "caractère nul"),
        ("x" * 50_001, "Le message fait 50001 caractères ; la limite est de 50000."),
        ("x" * 200_001, "ne peut pas contenir plus de 200000 caractères"),
    ],
    ids=["empty", "whitespace", "nul-only", "nul-inside", "50001", "200001"],
)
def test_reply_bad_body_is_400_with_a_message(app, client, auth, alice, thread, body, message):
    auth.login("alice")

    response = client.post_form(f"/threads/{thread.id}/reply", {"body": body})

    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert count(app, Post) == 1
    assert get_row(app, Thread, thread.id).reply_count == 0


def test_reply_of_exactly_50000_characters_is_accepted(app, client, auth, alice, thread):
    auth.login("alice")
    response = client.post_form(f"/threads/{thread.id}/reply", {"body": "é" * 50_000})
    assert response.status_code == 302
    assert count(app, Post) == 2


def test_request_over_one_megabyte_is_413_friendly_page(app, client, auth, alice, thread):
    auth.login("alice")

    response = client.post_form(f"/threads/{thread.id}/reply", {"body": "x" * (1024 * 1024 + 1)})

    html = response.get_data(as_text=True)
    assert response.status_code == 413
    assert "Envoi trop volumineux" in html
    assert "Traceback" not in html
    assert count(app, Post) == 1


def test_reply_page_for_a_post(app, client, auth, alice, thread):
    target = make_reply(app, alice, thread, body="Le message visé")
    auth.login("alice")

    page = client.get(f"/threads/{thread.id}/reply?parent_id={target.id}")

    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Le message visé" in html
    assert f'name="parent_id" value="{target.id}"' in html


# -- quote ------------------------------------------------------------------------------------


def test_quote_prefills_the_body_with_text_and_attribution(app, client, auth, alice, thread):
    bob = make_user(app, "bob")
    quoted = make_reply(app, bob, thread, body="Les mutuelles *aussi*.\nDeuxième ligne.")
    auth.login("alice")

    page = client.get(f"/threads/{thread.id}/reply?quote={quoted.id}")

    html = page.get_data(as_text=True)
    assert page.status_code == 200
    textarea = html[html.index("<textarea") : html.index("</textarea>")]
    assert "&gt; **bob** a écrit :" in textarea
    assert "&gt; Les mutuelles *aussi*." in textarea
    assert "&gt; Deuxième ligne." in textarea
    assert f'name="parent_id" value="{quoted.id}"' in html

    # Sending the pre-filled form publishes a reply to the quoted post.
    body = "> **bob** a écrit :\n>\n> Les mutuelles *aussi*.\n\nD'accord."
    sent = client.post_form(f"/threads/{thread.id}/reply", {"body": body, "parent_id": quoted.id})
    assert sent.status_code == 302
    with app.app_context():
        new = db.session.execute(select(Post).where(Post.parent_id == quoted.id)).scalar_one()
        assert "<blockquote>" in new.body_html
        assert "<strong>bob</strong> a écrit" in new.body_html


def test_quote_of_a_post_of_another_thread_or_deleted_is_not_prefilled(
    app, client, auth, alice, thread
):
    other = make_thread(app, alice, body="Texte d'un autre fil")
    gone = make_reply(app, alice, thread, body="Texte supprimé")
    auth.login("alice")
    client.post_form(f"/posts/{gone.id}/delete")

    for quoted in (opening_post(app, other), gone):
        page = client.get(f"/threads/{thread.id}/reply?quote={quoted.id}")
        html = page.get_data(as_text=True)
        assert page.status_code == 200
        textarea = html[html.index("<textarea") : html.index("</textarea>")]
        assert "a écrit" not in textarea
        assert "Texte d&#39;un autre fil" not in textarea
        assert "Texte supprimé" not in html


# -- edit and history -------------------------------------------------------------------------


def test_edit_keeps_a_revision_and_marks_the_post(app, client, auth, alice, thread):
    post = make_reply(app, alice, thread, body="Première version")
    auth.login("alice")

    form = client.get(f"/posts/{post.id}/edit")
    response = client.post_form(
        f"/posts/{post.id}/edit", {"body": "Deuxième version", "reason": "précision"}
    )

    assert form.status_code == 200
    assert "Première version" in form.get_data(as_text=True)
    assert response.status_code == 302
    assert response.headers["Location"] == f"/posts/{post.id}"
    row = get_row(app, Post, post.id)
    assert (row.body_source, row.edit_count) == ("Deuxième version", 1)
    with app.app_context():
        revision = db.session.execute(select(PostRevision)).scalar_one()
        assert (revision.body_source, revision.editor_id, revision.reason) == (
            "Première version", alice.id, "précision",
        )  # fmt: skip

    page = client.get(f"/threads/{thread.id}").get_data(as_text=True)
    assert "Deuxième version" in page
    assert "Première version" not in page
    assert f'class="edited" href="/posts/{post.id}/history">modifié</a>' in page

    history = client.get(f"/posts/{post.id}/history")
    assert history.status_code == 200
    assert "Première version" in history.get_data(as_text=True)
    assert "Deuxième version" in history.get_data(as_text=True)
    assert "précision" in history.get_data(as_text=True)


def test_every_edit_over_http_keeps_a_revision(app, client, auth, alice, thread):
    post = opening_post(app, thread)
    auth.login("alice")
    for n in range(3):
        assert client.post_form(f"/posts/{post.id}/edit", {"body": f"v{n}"}).status_code == 302
    assert get_row(app, Post, post.id).edit_count == 3
    assert count(app, PostRevision) == 3
    history = client.get(f"/posts/{post.id}/history").get_data(as_text=True)
    assert history.count('class="revision"') == 3


def test_history_is_for_the_author_and_moderators(app, client, auth, alice, thread):
    make_user(app, "bob")
    make_user(app, "modo", role="moderator")
    post = opening_post(app, thread)
    auth.login("alice")
    client.post_form(f"/posts/{post.id}/edit", {"body": "Corrigé"})
    auth.logout()

    assert client.get(f"/posts/{post.id}/history").status_code == 403
    auth.login("bob")
    assert client.get(f"/posts/{post.id}/history").status_code == 403
    page = client.get(f"/threads/{thread.id}").get_data(as_text=True)
    assert f"/posts/{post.id}/history" not in page
    assert '<span class="edited"' in page  # the marker, without the link
    auth.logout()
    auth.login("modo")
    assert client.get(f"/posts/{post.id}/history").status_code == 200


@pytest.mark.parametrize(
    ("body", "message"),
    [("", "Ce champ est obligatoire"), ("  ", "Le message est vide"), ("a\x00", "caractère nul")],
)
def test_edit_bad_body_is_400_and_changes_nothing(app, client, auth, alice, thread, body, message):
    post = opening_post(app, thread)
    auth.login("alice")

    response = client.post_form(f"/posts/{post.id}/edit", {"body": body})

    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert get_row(app, Post, post.id).body_source == "Ouverture."
    assert count(app, PostRevision) == 0


def test_edit_reason_with_a_nul_byte_is_400_not_500(app, client, auth, alice, thread):
    post = opening_post(app, thread)
    auth.login("alice")

    response = client.post_form(f"/posts/{post.id}/edit", {"body": "Nouveau", "reason": "a\x00"})

    assert response.status_code == 400
    assert "caractère nul" in response.get_data(as_text=True)
    assert get_row(app, Post, post.id).body_source == "Ouverture."


def test_edit_of_a_deleted_post_is_403(app, client, auth, alice, thread):
    post = make_reply(app, alice, thread)
    auth.login("alice")
    client.post_form(f"/posts/{post.id}/delete")

    assert client.post_form(f"/posts/{post.id}/edit", {"body": "Ressuscité"}).status_code == 403
    assert get_row(app, Post, post.id).edit_count == 0


# -- delete -----------------------------------------------------------------------------------


def test_delete_is_soft_leaves_a_placeholder_and_the_children(app, client, auth, alice, thread):
    bob = make_user(app, "bob")
    target = make_reply(app, alice, thread, body="Un texte qui va disparaître")
    child = make_reply(app, bob, thread, target, body="Une réponse qui reste")
    grandchild = make_reply(app, bob, thread, child, body="Et sa suite")
    sibling = make_reply(app, bob, thread, body="Une voisine")
    auth.login("alice")

    confirm = client.get(f"/posts/{target.id}/delete")
    response = client.post_form(f"/posts/{target.id}/delete")

    assert confirm.status_code == 200
    assert "Un texte qui va disparaître" in confirm.get_data(as_text=True)
    assert response.status_code == 302
    row = get_row(app, Post, target.id)
    assert row.deleted_at is not None
    assert row.deleted_by_id == alice.id
    assert count(app, Post) == 5
    assert get_row(app, Thread, thread.id).reply_count == 4

    auth.logout()
    html = client.get(f"/threads/{thread.id}").get_data(as_text=True)
    root = opening_post(app, thread)
    assert post_ids(html) == [root.id, target.id, child.id, grandchild.id, sibling.id]
    assert "Ce message a été supprimé" in html
    assert "Un texte qui va disparaître" not in html
    assert "Une réponse qui reste" in html
    assert "Et sa suite" in html
    deleted = html[html.index(f'id="post-{target.id}"') :]
    deleted = deleted[: deleted.index("</article>")]
    assert "/users/alice" not in deleted


def test_second_delete_is_403(app, client, auth, alice, thread):
    target = make_reply(app, alice, thread)
    auth.login("alice")
    assert client.post_form(f"/posts/{target.id}/delete").status_code == 302
    deleted_at = get_row(app, Post, target.id).deleted_at

    again = client.post_form(f"/posts/{target.id}/delete")

    assert again.status_code == 403
    assert get_row(app, Post, target.id).deleted_at == deleted_at


def test_deleting_the_opening_post_keeps_the_thread_readable(app, client, auth, alice, thread):
    reply = make_reply(app, alice, thread, body="Toujours là")
    root = opening_post(app, thread)
    auth.login("alice")

    assert client.post_form(f"/posts/{root.id}/delete").status_code == 302

    page = client.get(f"/threads/{thread.id}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert post_ids(html) == [root.id, reply.id]
    assert "Ouverture." not in html
    assert "Toujours là" in html


def test_delete_needs_a_post(app, client, auth, alice, thread):
    auth.login("alice")
    assert client.post_form("/posts/424242/delete").status_code == 404


# -- query counts -----------------------------------------------------------------------------


def build_thread(app, size: int, authors=None):
    """A thread of ``size`` posts by three authors, with depth, an edit and a deletion."""
    authors = authors or [make_user(app) for _ in range(3)]
    thread = make_thread(app, authors[0])
    parents = [None]
    for n in range(size - 1):
        # A ternary tree: 200 posts reach depth 5, within the thread page's depth.
        parents.append(make_reply(app, authors[n % 3], thread, parents[n // 3]))
    with app.app_context():
        posts = db.session.execute(select(Post).where(Post.thread_id == thread.id)).scalars()
        posts = list(posts)
        assert len(posts) == size
        posts[1].edited_at, posts[1].edit_count = utcnow(), 1
        posts[2].deleted_at = utcnow()
        db.session.commit()
    return thread, authors


def page_queries(app, client, url) -> int:
    """The SQL statements ``app`` runs to answer GET ``url`` (200 expected).

    For apps built with ``make_app(...)``: the ``query_counter`` fixture watches ``app``'s.
    """
    statements = []

    def record(_conn, _cursor, statement, *_args):
        if statement.lstrip().split(None, 1)[0].upper() != "BEGIN":
            statements.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        response = client.get(url)
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert response.status_code == 200
    return len(statements)


#: Measured: the thread (theme joined) with what surrounds its posts, in one statement
#: (whether it has seminar-session links, split threads, polls or a synthesis, and for a
#: logged-in viewer their watch level and read position), then its posts (authors
#: joined). None of those it lacks is looked up. A logged-in viewer adds the user's row
#: and, on a first or unread view, the upsert moving their read position; a moderator
#: the themes they moderate (read once per request). The positions of replies are
#: counted from the page when they are all on it, as here (see
#: forum.debate.queries.page_view). Constant in the thread's size.
THREAD_PAGE_QUERIES = {"anonymous": 2, "member": 4, "author": 4, "moderator": 5}


@pytest.mark.parametrize("viewer", list(THREAD_PAGE_QUERIES))
def test_thread_page_query_count_does_not_grow_with_the_thread(
    app, client, auth, query_counter, viewer
):
    small, authors = build_thread(app, 5)
    large, _ = build_thread(app, 200, authors)
    if viewer == "member":
        make_user(app, "lecteur")
        auth.login("lecteur")
    elif viewer == "author":
        auth.login(authors[1].username)
    elif viewer == "moderator":
        make_user(app, "modo", role="moderator")
        auth.login("modo")

    counts = []
    for thread in (small, large):
        with query_counter() as counter:
            response = client.get(f"/threads/{thread.id}")
        assert response.status_code == 200
        counts.append(counter.count)

    assert len(post_ids(response.get_data(as_text=True))) == 200
    assert counts == [THREAD_PAGE_QUERIES[viewer]] * 2
    assert max(counts) <= 10


def test_thread_page_over_several_pages_adds_the_count_and_outside_positions(make_app):
    app = make_app(FORUM_POSTS_PER_PAGE=20)
    client = app.test_client()
    small, authors = build_thread(app, 5)
    large, _ = build_thread(app, 60, authors)

    small_count = page_queries(app, client, f"/threads/{small.id}")
    pages = [page_queries(app, client, f"/threads/{large.id}?page={n}") for n in (1, 2, 3, 9)]

    assert small_count == THREAD_PAGE_QUERIES["anonymous"]
    # The count and, on a page some of whose posts have replies on another page (page 1
    # here, not the last ones), the positions those replies took.
    assert pages == [small_count + 2, small_count + 2, small_count + 1, small_count + 1]


#: Measured: the theme, then its threads (authors and last posters joined); +1 for the
#: logged-in viewer's row, and their read positions of the page's threads (thread_states) and
#: whether they watch the theme (theme_watches). The thread count comes from the theme's
#: counter: no COUNT query.
THEME_PAGE_QUERIES = {"anonymous": 2, "member": 5}


@pytest.mark.parametrize("viewer", list(THEME_PAGE_QUERIES))
def test_theme_page_query_count_does_not_grow_with_the_theme(
    app, client, auth, query_counter, viewer
):
    authors = [make_user(app) for _ in range(4)]
    for n in range(60):
        thread = make_thread(app, authors[n % 4], theme="services-publics")
        if n % 5 == 0:
            make_reply(app, authors[(n + 1) % 4], thread)
    for n in range(3):
        thread = make_thread(app, authors[n], theme="urbain")
        make_reply(app, authors[n + 1], thread)
    if viewer == "member":
        make_user(app, "lecteur")
        auth.login("lecteur")

    counts = []
    for url in ("/themes/services-publics", "/themes/services-publics?page=2", "/themes/urbain"):
        with query_counter() as counter:
            response = client.get(url)
        assert response.status_code == 200
        counts.append(counter.count)

    assert counts == [THEME_PAGE_QUERIES[viewer]] * 3


#: Measured, for a member's reply to the opening post of a thread others watch (its
#: author is mailed at once, the other watchers get a digest entry): the member, the
#: thread (theme joined) with its opening post, the watched words; every recipient
#: with its row and its mail preferences (one UNION ALL, preferences joined), read
#: before the first write; the writes: the parent's child counter (the rank), the post,
#: its search row, the thread's counters, the author's own read position and watch, the
#: notifications, the mail (transactional outbox: they commit with the reply; with no
#: mail server, as here, the mail is stored sent and written to the log after the
#: commit), the author's post count with the recipients' unread counters (one
#: statement: the rows locked in one order), the theme's counters, the page versions of
#: the thread and its theme (one upsert: the anonymous page cache). Constant in the
#: number of watchers. (It was 21 when the reply wrote a job that the request then ran
#: and marked done: the job, the post read again, the job's completion, the mail marked
#: sent in a transaction of its own; 17 when the author's and the recipients' counters
#: moved apart; 16 with the opening post and the preferences read on their own.)
REPLY_QUERIES = 14


def test_reply_query_count_does_not_grow_with_the_watchers(app, client, auth, query_counter):
    from forum.notifications.models import Notification, OutboxMail

    alice = make_user(app, "alice")
    few, many = make_thread(app, alice), make_thread(app, alice)
    for n in range(6):
        watcher = make_user(app)
        for thread in (few, many) if n < 2 else (many,):
            make_reply(app, watcher, thread)  # repliers watch the thread
    make_user(app, "bob")
    auth.login("bob")
    token = client.csrf_token()

    counts = []
    for thread in (few, many):
        with query_counter() as counter:
            response = client.post(
                f"/threads/{thread.id}/reply",
                data={"body": f"Une réponse dans le fil {thread.id}.", "csrf_token": token},
            )
        assert response.status_code == 302
        counts.append(counter.count)

    assert counts == [REPLY_QUERIES] * 2
    with app.app_context():
        bob_replies = select(Post.id).where(Post.author_id != alice.id).order_by(Post.id.desc())
        last = db.session.execute(bob_replies.limit(1)).scalar()
        told = db.session.execute(
            select(Notification.kind, func.count())
            .where(Notification.post_id == last)
            .group_by(Notification.kind)
        ).all()
        assert sorted(told) == [("reply", 1), ("watched_post", 6)]
        mailed = select(OutboxMail.sent_at).where(OutboxMail.subject.like("bob vous a répondu%"))
        assert len(db.session.execute(mailed).all()) == 2


def test_post_loads_join_their_thread_without_scanning_every_thread(app, client):
    """Branch pages, permalinks and search load a post with its thread (and theme).

    With an outer join SQLite materialised "threads JOIN themes" by scanning every thread:
    150 ms a request at 40,000 threads. The join must stay flat.
    """
    author = make_user(app)
    thread = make_thread(app, author)
    post = make_reply(app, author, thread)
    deep = make_reply(app, author, thread, post)
    statements = []

    def record(_conn, _cursor, statement, *_args):
        statements.append(" ".join(statement.split()))

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        assert client.get(f"/posts/{deep.id}").status_code == 302
        assert client.get(f"/threads/{thread.id}/branch/{post.id}").status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert any("JOIN threads" in s for s in statements)
    assert not any("LEFT OUTER JOIN (threads" in s for s in statements)


# -- admin: themes ----------------------------------------------------------------------------


@pytest.fixture
def admin_client(app, client, auth):
    make_user(app, "admin", role="admin")
    auth.login("admin")
    with app.app_context():
        # The test reset leaves PostgreSQL's theme id sequence behind the founding themes
        # (tests/conftest.py); move it past them so a new theme gets a fresh id.
        if db.engine.dialect.name == "postgresql":
            db.session.execute(
                text("SELECT setval(pg_get_serial_sequence('themes', 'id'), max(id)) FROM themes")
            )
            db.session.commit()
    return client


def theme_by_slug(app, slug):
    with app.app_context():
        theme = db.session.execute(select(Theme).where(Theme.slug == slug)).scalar()
        if theme is not None:
            db.session.expunge(theme)
        return theme


def theme_form(theme, **changes) -> dict:
    data = {
        "name": theme.name,
        "slug": theme.slug,
        "description": theme.description,
        "position": theme.position,
    }
    if theme.is_archived:
        data["archived"] = "y"
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def test_admin_lists_themes(admin_client):
    page = admin_client.get("/admin/themes")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    for slug in ("services-publics", "urbain", "developpement-local"):
        assert f"/themes/{slug}</code>" in html


def test_admin_creates_a_theme(app, admin_client):
    response = admin_client.post_form(
        "/admin/themes/new",
        {"name": "Santé au travail", "slug": "", "description": "CSE et mutuelles", "position": 5},
    )

    assert response.status_code == 302
    theme = theme_by_slug(app, "sante-au-travail")
    assert (theme.name, theme.description, theme.position) == (
        "Santé au travail",
        "CSE et mutuelles",
        5,
    )
    assert theme.archived_at is None
    assert admin_client.get("/themes/sante-au-travail").status_code == 200
    assert "Santé au travail" in admin_client.get("/").get_data(as_text=True)


def test_admin_renames_and_changes_the_slug(app, admin_client, alice, thread):
    theme = theme_by_slug(app, "services-publics")

    response = admin_client.post_form(
        f"/admin/themes/{theme.id}/edit",
        theme_form(theme, name="Services au public", slug="services-au-public"),
    )

    assert response.status_code == 302
    renamed = get_row(app, Theme, theme.id)
    assert (renamed.name, renamed.slug) == ("Services au public", "services-au-public")
    assert admin_client.get("/themes/services-publics").status_code == 404
    page = admin_client.get("/themes/services-au-public")
    assert page.status_code == 200
    assert thread.title in page.get_data(as_text=True)
    assert get_row(app, Thread, thread.id).theme_id == theme.id


def test_admin_duplicate_slug_is_400_and_changes_nothing(app, admin_client):
    theme = theme_by_slug(app, "services-publics")

    response = admin_client.post_form(
        f"/admin/themes/{theme.id}/edit", theme_form(theme, name="Autre nom", slug="urbain")
    )
    created = admin_client.post_form("/admin/themes/new", {"name": "Urbain", "slug": ""})

    assert response.status_code == created.status_code == 400
    assert "déjà prise" in response.get_data(as_text=True)
    unchanged = get_row(app, Theme, theme.id)
    assert (unchanged.name, unchanged.slug) == ("Services publics", "services-publics")
    assert count(app, Theme) == 3


@pytest.mark.parametrize(
    "changes",
    [{"name": "N\x00"}, {"description": "\x00"}, {"name": "   "}, {"name": ""}, {"position": "x"}],
    ids=["nul-name", "nul-description", "blank-name", "no-name", "bad-position"],
)
def test_admin_bad_theme_form_is_400(app, admin_client, changes):
    theme = theme_by_slug(app, "urbain")
    response = admin_client.post_form(
        f"/admin/themes/{theme.id}/edit", theme_form(theme, **changes)
    )
    assert response.status_code == 400
    assert get_row(app, Theme, theme.id).name == "Urbain"


def test_admin_archives_a_theme(app, client, auth, admin_client, alice, thread):
    theme = theme_by_slug(app, "services-publics")

    response = admin_client.post_form(
        f"/admin/themes/{theme.id}/edit", theme_form(theme, archived="y")
    )

    assert response.status_code == 302
    assert get_row(app, Theme, theme.id).archived_at is not None
    assert "archivé" in client.get("/admin/themes").get_data(as_text=True)
    auth.logout()
    auth.login("alice")
    refused = client.post_form(
        "/themes/services-publics/new", {"title": "Encore un fil", "body": "Non"}
    )
    assert refused.status_code == 403
    assert count(app, Thread) == 1
    assert client.get("/themes/services-publics").status_code == 200
    assert client.get(f"/threads/{thread.id}").status_code == 200
    replied = client.post_form(f"/threads/{thread.id}/reply", {"body": "Non plus"})
    assert replied.status_code == 403
    assert count(app, Post) == 1
    assert '<h3><a href="/themes/services-publics">' not in client.get("/").get_data(as_text=True)

    auth.logout()
    auth.login("admin")
    reopened = client.post_form(f"/admin/themes/{theme.id}/edit", theme_form(theme))
    assert reopened.status_code == 302
    assert get_row(app, Theme, theme.id).archived_at is None


def test_admin_edit_unknown_theme_is_404(admin_client):
    assert admin_client.get("/admin/themes/424242/edit").status_code == 404
