"""The moderation permission matrix: every act × the nine viewers, by ``can`` and over HTTP.

Over HTTP, a refused act answers 403 (or sends to the login page) and changes nothing;
an allowed one goes through. Pages show the moderation buttons only to those who may.
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, update

from forum.accounts.models import User
from forum.db import utcnow
from forum.discussions.models import Post, Thread
from forum.extensions import db
from forum.moderation.models import LogEntry, Report, Sanction
from forum.permissions import can
from tests.moderation.conftest import VIEWERS, login_as, viewer_user

T, F = True, False
MODS = (F, F, F, F, F, F, T, T, T)  # moderators of this theme, global ones, admins
NOBODY = (F,) * 9
EVERYONE = (T,) * 9


def set_state(app, world, state: str) -> None:
    with app.app_context():
        if state == "hidden":
            db.session.execute(
                update(Post)
                .where(Post.id == world.post)
                .values(hidden_at=utcnow(), hidden_reason="x")
            )
        elif state == "pending":
            db.session.execute(
                update(Post).where(Post.id == world.post).values(pending_at=utcnow())
            )
        elif state == "locked":
            db.session.execute(update(Thread).where(Thread.id == world.thread).values(locked=True))
        elif state == "thread-hidden":
            db.session.execute(
                update(Thread).where(Thread.id == world.thread).values(hidden_at=utcnow())
            )
        elif state == "edited":
            db.session.execute(update(Post).where(Post.id == world.post).values(edit_count=1))
        db.session.commit()


#: (action, object, state) -> answers for VIEWERS.
MATRIX = {
    ("thread:view", "thread", "open"): EVERYONE,
    ("thread:view", "thread", "thread-hidden"): (F, F, T, F, F, F, T, T, T),
    ("thread:create", "theme", "open"): (F, T, T, F, F, T, T, T, T),
    ("post:reply", "thread", "open"): (F, T, T, F, F, T, T, T, T),
    ("post:reply", "thread", "locked"): MODS,
    ("post:quote", "post", "hidden"): NOBODY,
    ("post:edit", "post", "open"): (F, F, T, F, F, F, T, T, T),
    ("post:edit", "post", "locked"): MODS,
    ("post:edit", "admin_post", "open"): (F,) * 8 + (T,),
    ("post:delete", "post", "open"): (F, F, T, F, F, F, T, T, T),
    ("post:delete", "admin_post", "open"): (F,) * 8 + (T,),
    ("post:history", "post", "edited"): (F, F, T, F, F, F, T, T, T),
    ("post:report", "post", "open"): (F, T, F, F, F, T, T, T, T),
    ("post:report", "post", "hidden"): NOBODY,
    ("post:report", "admin_post", "open"): (F, T, T, F, F, T, T, T, F),
    ("post:hide", "post", "open"): MODS,
    ("post:hide", "post", "hidden"): NOBODY,
    ("post:hide", "admin_post", "open"): (F,) * 8 + (T,),
    ("post:restore", "post", "open"): NOBODY,
    ("post:restore", "post", "hidden"): MODS,
    ("post:read-hidden", "post", "open"): EVERYONE,
    ("post:read-hidden", "post", "hidden"): (F, F, T, F, F, F, T, T, T),
    ("post:read-hidden", "post", "pending"): (F, F, T, F, F, F, T, T, T),
    ("post:approve", "post", "pending"): MODS,
    ("post:approve", "post", "open"): NOBODY,
    ("post:split", "post", "open"): MODS,
    ("thread:lock", "thread", "open"): MODS,
    ("thread:pin", "thread", "open"): MODS,
    ("thread:move", "thread", "open"): MODS,
    ("thread:merge", "thread", "open"): MODS,
    ("user:report", "author_user", "open"): (F, T, F, F, F, T, T, T, T),
    ("user:sanction", "author_user", "open"): (F, F, F, F, F, F, F, T, T),
    ("user:sanction", "admin_user", "open"): (F,) * 8 + (T,),
    ("user:lift", "author_user", "open"): (F, F, F, F, F, F, F, T, T),
    ("user:lift", "global_user", "open"): (F,) * 8 + (T,),  # nobody lifts their own
    ("user:history", "author_user", "open"): (F, F, F, F, F, T, T, T, T),
    ("moderation:queue", None, "open"): (F, F, F, F, F, T, T, T, T),
    ("moderation:log", None, "open"): (F, F, F, F, F, T, T, T, T),
    ("moderation:watched-words", None, "open"): (F, F, F, F, F, F, F, T, T),
    ("user:set-role", "author_user", "open"): (F,) * 8 + (T,),
    ("admin:access", None, "open"): (F,) * 8 + (T,),
    ("theme:manage", None, "open"): (F,) * 8 + (T,),
}


def _object(world, target: str | None):
    thread = db.session.get(Thread, world.thread)
    return {
        None: None,
        "thread": thread,
        "theme": thread.theme,
        "post": db.session.get(Post, world.post),
        "admin_post": db.session.get(Post, world.admin_post),
        "author_user": db.session.get(User, world.users["author"]),
        "admin_user": db.session.get(User, world.users["admin2"]),
        "global_user": db.session.get(User, world.users["global"]),
    }[target]


@pytest.mark.parametrize(("action", "target", "state"), list(MATRIX))
def test_moderation_permission_matrix(app, world, action, target, state):
    set_state(app, world, state)
    answers = []
    for viewer in VIEWERS:
        with app.app_context():
            answers.append(can(viewer_user(world, viewer), action, _object(world, target)))
    assert dict(zip(VIEWERS, answers, strict=True)) == dict(
        zip(VIEWERS, MATRIX[(action, target, state)], strict=True)
    )


# -- over HTTP ----------------------------------------------------------------------------------


def snapshot(app) -> dict:
    with app.app_context():
        return {
            "threads": sorted(
                (t.id, t.theme_id, t.locked, t.pinned, t.reply_count, t.merged_into_id, t.hidden_at)
                for t in db.session.execute(select(Thread)).scalars()
            ),
            "posts": sorted(
                (p.id, p.thread_id, p.path, p.hidden_at, p.pending_at, p.open_report_count)
                for p in db.session.execute(select(Post)).scalars()
            ),
            "users": sorted(
                (u.id, u.role, u.silenced_until, u.suspended_until, u.session_version)
                for u in db.session.execute(select(User)).scalars()
            ),
            "reports": db.session.execute(select(func.count()).select_from(Report)).scalar(),
            "sanctions": db.session.execute(select(func.count()).select_from(Sanction)).scalar(),
            "log": db.session.execute(select(func.count()).select_from(LogEntry)).scalar(),
        }


def request_for(world, act: str) -> tuple[str, str, dict]:
    return {
        "hide": ("POST", f"/posts/{world.post}/hide", {"reason": "Propos injurieux"}),
        "restore": ("POST", f"/posts/{world.post}/restore", {"reason": "Erreur"}),
        "report": ("POST", f"/posts/{world.post}/report", {"reason": "spam"}),
        "split": ("POST", f"/posts/{world.post}/split", {"title": "Une branche à part"}),
        "lock": ("POST", f"/threads/{world.thread}/lock", {}),
        "pin": ("POST", f"/threads/{world.thread}/pin", {}),
        "move": ("POST", f"/threads/{world.thread}/move", {"theme": "services-publics"}),
        "merge": ("POST", f"/threads/{world.thread}/merge", {"into": world.other_thread}),
        "sanction": (
            "POST",
            "/users/autrice/sanction",
            {"kind": "silence", "days": "3", "reason": "Insultes répétées"},
        ),
        "lift": ("POST", "/users/silencieux/lift", {"reason": "Levée anticipée"}),
        "queue": ("GET", "/moderation/", {}),
        "log": ("GET", "/moderation/log", {}),
    }[act]


#: act -> state the world is put in first, and the answers for VIEWERS. "login" = sent to the
#: login page (anonymous, and the suspended account whose login is refused).
L = "login"
HTTP = {
    "hide": ("open", (L, 403, 403, 403, L, 403, 302, 302, 302)),
    "restore": ("hidden", (L, 403, 403, 403, L, 403, 302, 302, 302)),
    "report": ("open", (L, 302, 403, 403, L, 302, 302, 302, 302)),
    "split": ("open", (L, 403, 403, 403, L, 403, 302, 302, 302)),
    "lock": ("open", (L, 403, 403, 403, L, 403, 302, 302, 302)),
    "pin": ("open", (L, 403, 403, 403, L, 403, 302, 302, 302)),
    "merge": ("open", (L, 403, 403, 403, L, 403, 302, 302, 302)),
    "sanction": ("open", (L, 403, 403, 403, L, 403, 403, 302, 302)),
    "queue": ("open", (L, 403, 403, 403, L, 200, 200, 200, 200)),
    "log": ("open", (L, 403, 403, 403, L, 200, 200, 200, 200)),
}


@pytest.mark.parametrize("act", list(HTTP))
@pytest.mark.parametrize("index", range(len(VIEWERS)), ids=VIEWERS)
def test_acts_over_http(app, client, world, act, index):
    viewer = VIEWERS[index]
    state, answers = HTTP[act]
    expected = answers[index]
    set_state(app, world, state)
    response = login_as(client, world, viewer)
    if viewer == "suspended":
        assert response.status_code == 403
        assert "suspendu" in response.get_data(as_text=True)
    method, url, form = request_for(world, act)
    before = snapshot(app)

    response = client.post_form(url, form) if method == "POST" else client.get(url)

    if expected == L:
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/auth/login?next=")
    else:
        assert response.status_code == expected, response.get_data(as_text=True)[:2000]
        assert not response.headers.get("Location", "").startswith("/auth/login")
    changed = snapshot(app) != before
    assert changed is (expected == 302), (viewer, act)
    if expected == 302:
        assert "_flashes" not in client.get("/healthz").headers.get("Set-Cookie", "")


def test_silenced_member_is_told_why_and_until_when(app, client, world):
    with app.app_context():
        from forum.moderation import sanctions

        mod = db.session.get(User, world.users["global"])
        sanctions.sanction(mod, db.session.get(User, world.users["member"]), "silence", 2, "Spam")
    login_as(client, world, "member")
    response = client.post_form(f"/threads/{world.thread}/reply", {"body": "Encore moi"})
    html = response.get_data(as_text=True)
    assert response.status_code == 403
    assert "silence" in html and "Spam" in html and "jusqu" in html


# -- buttons ------------------------------------------------------------------------------------


def _buttons(html: str, world) -> set[str]:
    needles = {
        "hide": f'action="/posts/{world.post}/hide"',
        "report": f'href="/posts/{world.post}/report"',
        "split": f'href="/posts/{world.post}/split"',
        "lock": f'action="/threads/{world.thread}/lock"',
        "pin": f'action="/threads/{world.thread}/pin"',
        "tools": f'href="/threads/{world.thread}/moderate"',
        "queue": 'href="/moderation/"',
    }
    return {name for name, needle in needles.items() if needle in html}


MOD_BUTTONS = {"hide", "split", "lock", "pin", "tools", "queue"}
BUTTONS = {
    "anonymous": set(),
    "member": {"report"},
    "author": set(),
    "silenced": set(),
    "suspended": set(),
    "mod_other": {"report", "queue"},
    "mod_this": MOD_BUTTONS | {"report"},
    "global": MOD_BUTTONS | {"report"},
    "admin": MOD_BUTTONS | {"report"},
}


@pytest.mark.parametrize("viewer", VIEWERS)
def test_thread_page_shows_moderation_buttons_only_to_those_who_may(app, client, world, viewer):
    login_as(client, world, viewer)
    html = client.get(f"/threads/{world.thread}").get_data(as_text=True)
    assert _buttons(html, world) == BUTTONS[viewer]


@pytest.mark.parametrize(
    ("viewer", "sanction", "history"),
    [("member", False, False), ("mod_this", False, True), ("global", True, True)],
)
def test_profile_buttons(app, client, world, viewer, sanction, history):
    login_as(client, world, viewer)
    html = client.get("/users/autrice").get_data(as_text=True)
    assert ('href="/users/autrice/sanction"' in html) is sanction
    assert ('href="/users/autrice/moderation"' in html) is history
    assert 'href="/users/autrice/report"' in html
