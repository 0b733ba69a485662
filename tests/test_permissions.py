"""Who may do what: the matrix of ``can``, refusals over HTTP, and the buttons pages show.

Viewers: the anonymous visitor, a member who wrote nothing, the author of the thread and of
its posts, a moderator and an admin. Objects are built through the factories and loaded in
an app context, as the views load them.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from types import SimpleNamespace

import pytest
from sqlalchemy import select, update

from forum.accounts.models import AnonymousUser, User
from forum.db import utcnow
from forum.discussions.models import Post, PostRevision, Theme, Thread
from forum.extensions import db
from forum.notifications.models import ThemeWatch, ThreadState
from forum.permissions import Action, can
from tests.factories import login, make_reply, make_thread, make_user, opening_post

VIEWERS = ("anonymous", "member", "author", "moderator", "admin")
T, F = True, False


@dataclass
class World:
    users: dict[str, int]
    thread: int
    post: int  # a reply by the author, edited once
    other_post: int  # a reply by someone else in the same thread


def build_world(app) -> World:
    users = {
        "member": make_user(app, "membre").id,
        "author": make_user(app, "autrice").id,
        "moderator": make_user(app, "modo", role="moderator").id,
        "admin": make_user(app, "admin", role="admin").id,
    }
    thread = make_thread(app, users["author"], title="Le fil de l'autrice")
    post = make_reply(app, users["author"], thread, body="Réponse de l'autrice")
    other = make_reply(app, users["member"], thread, body="Réponse du membre")
    with app.app_context():
        row = db.session.get(Post, post.id)
        row.edited_at, row.edit_count = utcnow(), 1
        db.session.commit()
    return World(users=users, thread=thread.id, post=post.id, other_post=other.id)


@pytest.fixture
def world(app) -> World:
    return build_world(app)


def set_state(app, world: World, state: str) -> None:
    """Put the world in ``state``: open, locked, archived (theme) or deleted (the post)."""
    with app.app_context():
        if state == "locked":
            db.session.execute(update(Thread).where(Thread.id == world.thread).values(locked=True))
        elif state == "archived":
            db.session.execute(
                update(Theme)
                .where(Theme.id == db.session.get(Thread, world.thread).theme_id)
                .values(archived_at=utcnow())
            )
        elif state == "deleted":
            db.session.execute(
                update(Post).where(Post.id == world.post).values(deleted_at=utcnow())
            )
        db.session.commit()


def viewer_user(world: World, viewer: str):
    """The viewer as ``can`` sees it; needs an app context."""
    if viewer == "anonymous":
        return AnonymousUser()
    return db.session.get(User, world.users[viewer])


@contextmanager
def loaded(app, world: World, viewer: str) -> Iterator[tuple]:
    """The viewer and the objects, loaded in an app context as a view would."""
    with app.app_context():
        user = viewer_user(world, viewer)
        thread = db.session.get(Thread, world.thread)
        yield user, thread.theme, thread, db.session.get(Post, world.post)


#: (action, object, state) -> expected answer for each of VIEWERS.
MATRIX = {
    ("thread:view", "thread", "open"): (T, T, T, T, T),
    ("thread:view", "thread", "locked"): (T, T, T, T, T),
    ("thread:create", "theme", "open"): (F, T, T, T, T),
    ("thread:create", "theme", "archived"): (F, F, F, F, F),
    ("post:reply", "thread", "open"): (F, T, T, T, T),
    ("post:reply", "thread", "locked"): (F, F, F, T, T),
    ("post:reply", "thread", "archived"): (F, F, F, F, F),
    ("post:quote", "post", "open"): (F, T, T, T, T),
    ("post:quote", "post", "locked"): (F, F, F, T, T),
    ("post:quote", "post", "deleted"): (F, F, F, F, F),
    ("post:edit", "post", "open"): (F, F, T, T, T),
    ("post:edit", "post", "locked"): (F, F, F, T, T),
    ("post:edit", "post", "archived"): (F, F, F, T, T),
    ("post:edit", "post", "deleted"): (F, F, F, F, F),
    ("post:delete", "post", "open"): (F, F, T, T, T),
    ("post:delete", "post", "locked"): (F, F, F, T, T),
    ("post:delete", "post", "archived"): (F, F, F, T, T),
    ("post:delete", "post", "deleted"): (F, F, F, F, F),
    ("post:history", "post", "open"): (F, F, T, T, T),
    ("post:history", "post", "locked"): (F, F, T, T, T),
    ("post:history", "post", "deleted"): (F, F, T, T, T),
    ("theme:manage", "theme", "open"): (F, F, F, F, T),
    ("theme:manage", None, "open"): (F, F, F, F, T),
    ("admin:access", None, "open"): (F, F, F, F, T),
    ("user:set-role", None, "open"): (F, F, F, F, T),
    ("news:publish", None, "open"): (F, F, F, F, T),
    ("thread:watch", "thread", "open"): (F, T, T, T, T),
    ("thread:watch", "thread", "locked"): (F, T, T, T, T),
    ("theme:watch", "theme", "open"): (F, T, T, T, T),
    ("theme:watch", "theme", "archived"): (F, T, T, T, T),
}


#: Seminar rules read plain attributes: (action, seminar status, past?) -> answers for
#: anonymous, member, organiser, moderator, admin.
SEMINAR_VIEWERS = ("anonymous", "member", "organiser", "moderator", "admin")
SEMINAR_MATRIX = {
    ("seminar:view", "draft", False): (F, F, T, F, T),
    ("seminar:view", "published", False): (T, T, T, T, T),
    ("seminar:view", "cancelled", True): (T, T, T, T, T),
    ("seminar:manage", "published", False): (F, F, T, F, T),
    ("seminar:register", "published", False): (F, T, T, T, T),
    ("seminar:register", "published", True): (F, F, F, F, F),
    ("seminar:register", "cancelled", False): (F, F, F, F, F),
    ("session:prepare", "published", False): (F, T, T, T, T),
    ("session:prepare", "published", True): (F, F, F, F, F),
    ("session:prepare", "draft", False): (F, F, F, F, F),
    ("session:follow-up", "published", True): (F, F, T, F, T),
}


def test_every_action_is_in_a_matrix():
    from tests.debate.test_permissions import DEBATE_MATRIX
    from tests.directory.test_permissions import MATRIX as DIRECTORY_MATRIX
    from tests.moderation.test_matrix import MATRIX as MODERATION_MATRIX

    covered = {action for action, _obj, _state in MATRIX}
    covered |= {action for action, _status, _past in SEMINAR_MATRIX}
    covered |= {action for action, _obj, _state in MODERATION_MATRIX}
    from tests.messages.test_matrix import MATRIX as MESSAGES_MATRIX

    covered |= {action for action, _obj, _state in MESSAGES_MATRIX}
    from tests.privacy.test_matrix import MATRIX as PRIVACY_MATRIX

    covered |= {action for action, _target in PRIVACY_MATRIX}
    covered |= {action.value for action, _obj, _allowed in DIRECTORY_MATRIX}
    covered |= {action for action, _obj, _state in DEBATE_MATRIX}
    assert covered == {a.value for a in Action}


@pytest.mark.parametrize(("action", "status", "past"), list(SEMINAR_MATRIX))
def test_seminar_permission_matrix(app, action, status, past):
    ids = {
        "member": make_user(app, "membre").id,
        "organiser": make_user(app, "orga").id,
        "moderator": make_user(app, "modo", role="moderator").id,
        "admin": make_user(app, "admin", role="admin").id,
    }
    seminar = SimpleNamespace(status=status, is_past=past)
    session = SimpleNamespace(seminar=seminar, has_ended=past, theme=None)
    target = session if action.startswith("session:") else seminar
    answers = []
    with app.app_context():
        db.session.get(User, ids["organiser"]).is_organiser = True
        db.session.commit()
        for viewer in SEMINAR_VIEWERS:
            user = AnonymousUser() if viewer == "anonymous" else db.session.get(User, ids[viewer])
            answers.append(can(user, action, target))
    assert dict(zip(SEMINAR_VIEWERS, answers, strict=True)) == dict(
        zip(SEMINAR_VIEWERS, SEMINAR_MATRIX[(action, status, past)], strict=True)
    )


@pytest.mark.parametrize(("action", "target", "state"), list(MATRIX))
def test_permission_matrix(app, world, action, target, state):
    set_state(app, world, state)
    answers = []
    for viewer in VIEWERS:
        with loaded(app, world, viewer) as (user, theme, thread, post):
            obj = {"theme": theme, "thread": thread, "post": post, None: None}[target]
            answers.append(can(user, action, obj))
    assert dict(zip(VIEWERS, answers, strict=True)) == dict(
        zip(VIEWERS, MATRIX[(action, target, state)], strict=True)
    )


def test_history_of_a_post_never_edited_is_refused_to_everyone(app, world):
    with app.app_context():
        opening = db.session.execute(
            select(Post).where(Post.thread_id == world.thread, Post.parent_id.is_(None))
        ).scalar_one()
        for viewer in VIEWERS:
            assert not can(viewer_user(world, viewer), Action.POST_HISTORY, opening)


# -- refusals over HTTP change nothing --------------------------------------------------------


def snapshot(app) -> dict:
    """What a refused action must leave as it was."""
    with app.app_context():
        return {
            "threads": sorted(
                (t.id, t.title, t.reply_count, t.locked, t.last_post_at)
                for t in db.session.execute(select(Thread)).scalars()
            ),
            "posts": sorted(
                (p.id, p.body_source, p.edit_count, p.deleted_at, p.child_count)
                for p in db.session.execute(select(Post)).scalars()
            ),
            "revisions": len(db.session.execute(select(PostRevision.id)).all()),
            "themes": sorted(
                (t.id, t.name, t.slug, t.archived_at, t.thread_count, t.post_count)
                for t in db.session.execute(select(Theme)).scalars()
            ),
            "watches": sorted(
                db.session.execute(
                    select(ThreadState.user_id, ThreadState.thread_id, ThreadState.level)
                ).all()
            )
            + sorted(db.session.execute(select(ThemeWatch.user_id, ThemeWatch.theme_id)).all()),
        }


def request_for(world: World, action: str) -> tuple[str, str, dict]:
    """(method, url, form) exercising ``action`` on the world's objects."""
    return {
        "thread:create": (
            "POST",
            "/themes/services-publics/new",
            {"title": "Un fil", "body": "Corps"},
        ),
        "post:reply": ("POST", f"/threads/{world.thread}/reply", {"body": "Une réponse"}),
        "post:reply-form": ("GET", f"/threads/{world.thread}/reply", {}),
        # Moderators editing someone else's post must give a reason (moderation).
        "post:edit": (
            "POST",
            f"/posts/{world.post}/edit",
            {"body": "Texte remplacé", "reason": "Propos corrigés"},
        ),
        "post:edit-form": ("GET", f"/posts/{world.post}/edit", {}),
        "post:delete": ("POST", f"/posts/{world.post}/delete", {}),
        "post:delete-form": ("GET", f"/posts/{world.post}/delete", {}),
        "post:history": ("GET", f"/posts/{world.post}/history", {}),
        "theme:manage": ("POST", "/admin/themes/1/edit", {"name": "Piraté", "slug": "pirate"}),
        "theme:create": ("POST", "/admin/themes/new", {"name": "Nouveau thème", "slug": "nouveau"}),
        "admin:access": ("GET", "/admin/themes", {}),
        "thread:watch": ("POST", f"/threads/{world.thread}/watch", {"level": "muted"}),
        "theme:watch": ("POST", "/themes/services-publics/watch", {"level": "watching"}),
    }[action]


#: (action, state, viewer) refused; anonymous visitors are sent to log in where it says so.
REFUSED = [
    ("thread:create", "open", "anonymous", "login"),
    ("thread:create", "archived", "member", 403),
    ("thread:create", "archived", "admin", 403),
    ("post:reply", "open", "anonymous", "login"),
    ("post:reply-form", "open", "anonymous", "login"),
    ("post:reply", "locked", "member", 403),
    ("post:reply", "locked", "author", 403),
    ("post:reply-form", "locked", "member", 403),
    ("post:reply", "archived", "author", 403),
    ("post:edit", "open", "anonymous", "login"),
    ("post:edit", "open", "member", 403),
    ("post:edit-form", "open", "member", 403),
    ("post:edit", "locked", "author", 403),
    ("post:edit", "archived", "author", 403),
    ("post:edit", "deleted", "author", 403),
    ("post:edit", "deleted", "moderator", 403),
    ("post:delete", "open", "anonymous", "login"),
    ("post:delete", "open", "member", 403),
    ("post:delete-form", "open", "member", 403),
    ("post:delete", "locked", "author", 403),
    ("post:delete", "deleted", "author", 403),
    ("post:delete", "deleted", "admin", 403),
    ("post:history", "open", "anonymous", 403),
    ("post:history", "open", "member", 403),
    ("theme:manage", "open", "anonymous", "login"),
    ("theme:manage", "open", "member", 403),
    ("theme:manage", "open", "moderator", 403),
    ("theme:create", "open", "moderator", 403),
    ("admin:access", "open", "anonymous", "login"),
    ("admin:access", "open", "member", 403),
    ("admin:access", "open", "moderator", 403),
    ("thread:watch", "open", "anonymous", "login"),
    ("theme:watch", "open", "anonymous", "login"),
]


def login_as(app, client, world: World, viewer: str) -> None:
    if viewer != "anonymous":
        with app.app_context():
            username = db.session.get(User, world.users[viewer]).username
        login(client, username)


@pytest.mark.parametrize(("action", "state", "viewer", "expected"), REFUSED)
def test_refused_actions_answer_403_or_login_and_change_nothing(
    app, client, world, action, state, viewer, expected
):
    set_state(app, world, state)
    login_as(app, client, world, viewer)
    method, url, form = request_for(world, action)
    before = snapshot(app)

    response = client.post_form(url, form) if method == "POST" else client.get(url)

    if expected == "login":
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/auth/login?next=")
    else:
        assert response.status_code == expected
        assert "Accès refusé" in response.get_data(as_text=True)
    assert snapshot(app) == before


#: The same requests, allowed: the counterpart that proves the refusals are not blanket.
ALLOWED = [
    ("thread:create", "open", "member", 302),
    ("post:reply", "open", "member", 302),
    ("post:reply", "locked", "moderator", 302),
    ("post:edit", "open", "author", 302),
    ("post:edit", "locked", "moderator", 302),
    ("post:edit", "archived", "admin", 302),
    ("post:delete", "open", "author", 302),
    ("post:delete", "open", "moderator", 302),
    ("post:history", "open", "author", 200),
    ("post:history", "open", "moderator", 200),
    ("post:history", "deleted", "admin", 200),
    ("admin:access", "open", "admin", 200),
    ("thread:watch", "locked", "member", 302),
    ("theme:watch", "archived", "member", 302),
]


@pytest.mark.parametrize(("action", "state", "viewer", "expected"), ALLOWED)
def test_allowed_actions_go_through(app, client, world, action, state, viewer, expected):
    set_state(app, world, state)
    login_as(app, client, world, viewer)
    method, url, form = request_for(world, action)
    before = snapshot(app)

    response = client.post_form(url, form) if method == "POST" else client.get(url)

    assert response.status_code == expected
    assert (snapshot(app) == before) is (method == "GET")


# -- pages show only the buttons the viewer may use -------------------------------------------


def buttons(html: str, world: World, post_id: int) -> set[str]:
    found = {
        "reply": f'href="/threads/{world.thread}/reply?parent_id={post_id}"',
        "quote": f'href="/threads/{world.thread}/reply?quote={post_id}"',
        "edit": f'href="/posts/{post_id}/edit"',
        "delete": f'href="/posts/{post_id}/delete"',
        "history": f'href="/posts/{post_id}/history"',
    }
    return {name for name, needle in found.items() if needle in html}


ALL = {"reply", "quote", "edit", "delete", "history"}

#: state -> viewer -> (buttons on the author's edited post, buttons on the member's post).
BUTTONS = {
    "open": {
        "anonymous": (set(), set()),
        "member": ({"reply", "quote"}, {"reply", "quote", "edit", "delete"}),
        "author": (ALL, {"reply", "quote"}),
        "moderator": (ALL, {"reply", "quote", "edit", "delete"}),
        "admin": (ALL, {"reply", "quote", "edit", "delete"}),
    },
    "locked": {
        "anonymous": (set(), set()),
        "member": (set(), set()),
        "author": ({"history"}, set()),
        "moderator": (ALL, {"reply", "quote", "edit", "delete"}),
        "admin": (ALL, {"reply", "quote", "edit", "delete"}),
    },
    "archived": {
        "anonymous": (set(), set()),
        "member": (set(), set()),
        "author": ({"history"}, set()),
        "moderator": ({"edit", "delete", "history"}, {"edit", "delete"}),
        "admin": ({"edit", "delete", "history"}, {"edit", "delete"}),
    },
}


@pytest.mark.parametrize("state", list(BUTTONS))
@pytest.mark.parametrize("viewer", VIEWERS)
def test_thread_page_shows_only_allowed_buttons(app, client, world, state, viewer):
    set_state(app, world, state)
    login_as(app, client, world, viewer)

    page = client.get(f"/threads/{world.thread}")

    html = page.get_data(as_text=True)
    assert page.status_code == 200
    on_own, on_other = BUTTONS[state][viewer]
    assert buttons(html, world, world.post) == on_own
    assert buttons(html, world, world.other_post) == on_other
    assert ("Modifier" in html) is bool((on_own | on_other) & {"edit"})
    assert ('id="reply-heading"' in html) is ("reply" in on_own)
    assert ("Connectez-vous" in html) is (viewer == "anonymous")


def test_member_does_not_see_edit_on_someone_elses_post(app, client, world):
    login_as(app, client, world, "member")
    html = client.get(f"/threads/{world.thread}").get_data(as_text=True)
    author_post = html[html.index(f'id="post-{world.post}"') :]
    author_post = author_post[: author_post.index("</article>")]
    assert "Modifier" not in author_post
    assert "Supprimer" not in author_post
    assert "Répondre" in author_post


def test_deleted_post_shows_no_button_to_anyone(app, client, world):
    set_state(app, world, "deleted")
    for viewer in VIEWERS:
        login_as(app, client, world, viewer)
        html = client.get(f"/threads/{world.thread}").get_data(as_text=True)
        assert buttons(html, world, world.post) == set(), viewer
        client.post_form("/auth/logout")


@pytest.mark.parametrize(
    ("viewer", "new_thread", "login_link", "admin_link"),
    [
        ("anonymous", False, True, False),
        ("member", True, False, False),
        ("moderator", True, False, False),
        ("admin", True, False, True),
    ],
)
def test_theme_page_buttons(app, client, world, viewer, new_thread, login_link, admin_link):
    login_as(app, client, world, viewer)
    html = client.get("/themes/services-publics").get_data(as_text=True)
    assert ('class="button" href="/themes/services-publics/new"' in html) is new_thread
    assert ("Se connecter pour ouvrir un fil" in html) is login_link
    assert ('href="/admin/"' in html) is admin_link

    set_state(app, world, "archived")
    html = client.get("/themes/services-publics").get_data(as_text=True)
    assert "/themes/services-publics/new" not in html


def test_opening_post_buttons_follow_the_same_rules(app, client, world):
    opening = opening_post(app, world.thread).id
    login_as(app, client, world, "member")
    html = client.get(f"/threads/{world.thread}").get_data(as_text=True)
    assert buttons(html, world, opening) == {"reply", "quote"}
    client.post_form("/auth/logout")
    login_as(app, client, world, "author")
    html = client.get(f"/threads/{world.thread}").get_data(as_text=True)
    assert buttons(html, world, opening) == {"reply", "quote", "edit", "delete"}
