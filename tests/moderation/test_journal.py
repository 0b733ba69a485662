"""/moderation/log tells each act as a sentence with links; unknown accounts list nothing."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from sqlalchemy import select

from forum.accounts.models import User
from forum.discussions.models import Post, Theme, Thread
from forum.extensions import db
from forum.moderation import journal, log, sanctions, words
from forum.moderation import services as moderation
from forum.moderation.models import LogEntry, SanctionKind
from tests.factories import PASSWORD, make_reply, make_thread, make_user, opening_post

FORUM = Path(__file__).parents[2] / "forum"
CODE = re.compile(
    r"\"((?:post|thread|user|report|word|organisation|mediator|contact|message|poll):[a-z-]+)\""
)


def written_codes() -> set[str]:
    """Every action code a module that writes the log names, sanctions expanded."""
    codes = {f"user:{kind.value}" for kind in SanctionKind}
    for path in FORUM.rglob("*.py"):
        source = path.read_text("utf-8")
        if "log.record(" in source and path.name != "permissions.py":
            codes |= set(CODE.findall(source))
    return codes


def test_every_code_the_forum_writes_has_a_sentence():
    codes = written_codes()
    assert {"post:hide", "post:auto-hide", "thread:move", "user:silence", "word:add"} <= codes
    assert codes == set(journal.SENTENCES), (
        codes ^ set(journal.SENTENCES)  # missing sentences, or sentences for nothing
    )


#: Details as the services write them, for each code.
DETAILS = {
    "thread:move": {"from_theme": "urbain", "to_theme": "services-publics"},
    "thread:merge": {"into_thread": "other", "from_title": "Un vieux fil"},
    "post:split": {"new_thread": "other"},
    "user:set-role": {"after": {"role": "moderator", "themes": ["urbain"]}},
    "user:silence": {"days": 7},
    "user:suspend": {"days": 1},
    "word:add": {"word": "arnaque", "word_action": "block"},
    "word:remove": {"word": "arnaque", "word_action": "review"},
}


@pytest.mark.parametrize("code", sorted(journal.SENTENCES))
def test_each_code_is_told_as_a_sentence_with_links(app, code):
    alice = make_user(app, "alice")
    thread = make_thread(app, alice, title="Le fil concerné")
    other = make_thread(app, alice, title="Le fil d'arrivée")
    post = opening_post(app, thread)
    with app.app_context(), app.test_request_context("/moderation/log"):
        themes = dict(db.session.execute(select(Theme.slug, Theme.id)).all())
        ids = {"other": other.id, **themes}
        details = {
            key: ids.get(value, value) if isinstance(value, str) and key != "word" else value
            for key, value in DETAILS.get(code, {}).items()
        }
        entry = LogEntry(
            action=code,
            user_id=alice.id,
            theme_id=themes["urbain"],
            thread_id=thread.id,
            post_id=post.id if code.startswith(("post:", "report:")) else None,
            details=json.dumps(details),
        )
        entry.user = db.session.get(User, alice.id)
        (told,) = journal.describe([entry])
        sentence = str(told.sentence)
    assert sentence.startswith("a "), sentence
    assert code not in sentence and "%(" not in sentence
    if code.startswith(("post:", "report:")):
        assert f'href="/posts/{post.id}"' in sentence or f"/p/{post.id}" in sentence
    if code.startswith("thread:") and code != "thread:merge":
        assert f'href="/threads/{thread.id}"' in sentence
    if code in ("thread:merge", "post:split"):
        assert f'href="/threads/{other.id}"' in sentence
    if code.startswith(("user:", "report:", "post:")) or code == "thread:merge":
        assert 'href="/users/alice"' in sentence
    if code == "thread:move":
        assert "Urbain" in sentence and "Services publics" in sentence
    if code == "user:silence":
        assert "pour 7 jours" in sentence


def test_the_log_page_reads_as_sentences(app, client, query_counter):
    alice = make_user(app, "alice")
    bob = make_user(app, "bob")
    modo = make_user(app, "modo", role="moderator")
    thread = make_thread(app, alice, "urbain", title="Jardins partagés du quartier")
    reply = make_reply(app, alice, thread, body="Une réponse à masquer.")
    with app.app_context():
        actor = db.session.get(User, modo.id)
        moderation.hide(actor, db.session.get(Post, reply.id), "propos blessants")
        theme = db.session.execute(
            select(Theme).where(Theme.slug == "services-publics")
        ).scalar_one()
        moderation.move(db.session.get(User, modo.id), db.session.get(Thread, thread.id), theme)
        sanctions.sanction(
            db.session.get(User, modo.id), db.session.get(User, bob.id), "silence", 7, "spam"
        )
        words.add(db.session.get(User, modo.id), "arnaque", "block")
    client.post_form("/auth/login", {"login": "modo", "password": PASSWORD})
    client.get("/moderation/log")  # the first page after logging in may do more (session)
    with query_counter() as counter:
        response = client.get("/moderation/log")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert re.search(
        rf'a masqué <a href="[^"]*/posts/{reply.id}[^"]*">le message {reply.id}</a> de '
        r'<a href="/users/alice">alice</a>',
        page,
    ), page
    assert "raison : propos blessants" in page
    assert (
        f'a déplacé le fil <a href="/threads/{thread.id}">« Jardins partagés du quartier »</a>'
        ' de <a href="/themes/urbain">Urbain</a> vers'
        ' <a href="/themes/services-publics">Services publics</a>'
    ) in page
    assert 'a réduit au silence <a href="/users/bob">bob</a> pour 7 jours' in page
    assert "a ajouté « arnaque » aux mots surveillés (bloquer le message)" in page
    # The raw details stay out of sight, folded for whoever undoes an act by hand.
    shown = re.sub(r"<details.*?</details>", "", page, flags=re.S)
    assert "&#34;from_theme" in page and "from_theme" not in shown
    # The code stays, as a filter.
    assert '<a href="/moderation/log?act=thread:move"><code>thread:move</code></a>' in page
    moves = client.get("/moderation/log?act=thread:move").get_data(as_text=True)
    assert "a déplacé le fil" in moves and "a masqué" not in moves
    # Two queries for the threads and themes the sentences name, whatever the page holds.
    with app.app_context():
        for _ in range(5):
            log.record(db.session.get(User, modo.id), "thread:pin", thread_id=thread.id)
        db.session.commit()
    with query_counter() as longer:
        client.get("/moderation/log")
    assert longer.count == counter.count


@pytest.mark.parametrize("arg", ["moderator", "user"])
def test_an_unknown_account_lists_nothing_and_says_so(app, client, arg):
    alice = make_user(app, "alice")
    make_user(app, "modo", role="moderator")
    thread = make_thread(app, alice)
    with app.app_context():
        post = db.session.get(Post, opening_post(app, thread).id)
        log.record(None, "post:auto-hide", user_id=None, thread_id=thread.id, post_id=post.id)
        db.session.commit()
    client.post_form("/auth/login", {"login": "modo", "password": PASSWORD})
    everything = client.get("/moderation/log").get_data(as_text=True)
    assert "le forum (automatique)" in everything
    response = client.get(f"/moderation/log?{arg}=personne")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Aucun compte ne porte le pseudo « personne »" in page
    assert "le forum (automatique)" not in page
    assert "Aucun acte de modération." in page
