"""French demo content: accounts of the four families, threads and reply trees, the seminar.

``flask forum seed-demo`` calls :func:`seed`, the one place that calls each domain's
seeder. The texts live in TOML files under ``forum/demo_data/`` (``accounts.toml``, one
``threads-<theme>.toml`` per theme, ``seminar.toml``), read with the standard library's
``tomllib``; this module only loads them. Everything goes through the services the web
pages use (registration, profile, thread, reply, seminar), so counters and rendered HTML
are what real use would produce; only the dates are rewritten afterwards, so that each
thread reads as if it had been written over the past weeks. The passwords are fixed and
meant for local use only.

A domain adds its demo with a ``forum/<domain>/demo.py`` (its data beside it) exposing
``seed(users, now)``, and one call line at the end of :func:`seed`.
"""

from __future__ import annotations

import random
import re
import textwrap
import tomllib
from datetime import datetime, timedelta
from functools import cache
from importlib import resources

from sqlalchemy import func, select

from forum.accounts import services as accounts
from forum.accounts.models import Family, Role, User
from forum.db import utcnow
from forum.directory import demo as directory_demo
from forum.discussions import services as discussions
from forum.discussions.models import Post, Theme, Thread
from forum.extensions import db
from forum.messages import demo as messages_demo

ADMIN_USERNAME = "coordination-rs"
#: The themes whose threads are loaded, in this order (``threads-<slug>.toml``).
THREAD_THEMES = ("services-publics", "urbain", "developpement-local")


@cache
def _load(name: str) -> dict:
    """The TOML file ``forum/demo_data/<name>.toml``."""
    return tomllib.loads(
        resources.files("forum").joinpath("demo_data", f"{name}.toml").read_text("utf-8")
    )


#: A line break inside a paragraph: not before a blank line, a list item or a quoted line.
_SOFT_BREAK = re.compile(r"(?<!\n)\n(?!\n|[-*>] |\d+\. ) *")


def _markdown(text: str) -> str:
    """A text block as a member would type it: dedented, each paragraph on one line."""
    return _SOFT_BREAK.sub(" ", textwrap.dedent(text).strip())


def _spread_over_weeks(thread: Thread, rng: random.Random, now: datetime) -> None:
    """Date the thread's posts over the past weeks, increasing in path order."""
    posts = (
        db.session.execute(select(Post).where(Post.thread_id == thread.id).order_by(Post.path))
        .scalars()
        .all()
    )
    start = now - timedelta(days=rng.uniform(6, 45), minutes=rng.uniform(0, 600))
    span = (now - start) * rng.uniform(0.5, 0.95)
    offsets = [0.0, *sorted(rng.random() for _ in posts[1:])]
    for post, offset in zip(posts, offsets, strict=True):
        post.created_at = start + span * offset
    thread.created_at = start
    thread.last_post_at = posts[-1].created_at
    thread.last_post_author_id = posts[-1].author_id
    theme = thread.theme
    theme.last_post_at = db.session.execute(
        select(func.max(Thread.last_post_at)).where(Thread.theme_id == theme.id)
    ).scalar_one()
    db.session.commit()


def _seed_seminar(users: dict[str, User], now: datetime) -> None:
    """The seminar of 31 March, its sessions, registrations, minutes and linked threads."""
    from forum.seminars import services as seminars

    data = _load("seminar")
    year = now.year if (now.month, now.day) < (3, 31) else now.year + 1
    day = datetime(year, 3, 31)

    def at(hhmm: str) -> datetime:
        hours, minutes = map(int, hhmm.split(":"))
        return seminars.from_paris(day.replace(hour=hours, minute=minutes))

    admin = users[data.get("organiser", ADMIN_USERNAME)]
    seminar = seminars.save_seminar(
        admin,
        None,
        title=data["title"].format(year=year),
        description=_markdown(data["description"]),
        venue=data["venue"],
        address=data["address"],
        starts_at=at(data["starts"]),
        ends_at=at(data["ends"]),
        capacity=data["capacity"],
        registration_closes_at=at(data["registration_closes"]),
        status="published",
    )
    themes = {t.slug: t for t in db.session.execute(select(Theme)).scalars()}
    sessions = [
        seminars.save_session(
            admin,
            seminar,
            None,
            title=item["title"],
            kind=item["kind"],
            starts_at=at(item["start"]),
            ends_at=at(item["end"]),
            room=item["room"],
            theme=themes[item["theme"]],
            speakers=item["speakers"],
            description="",
            capacity=item.get("capacity"),
        )
        for item in data["sessions"]
    ]
    workshops = [s.id for s in sessions if s.kind == "workshop"]
    for n, username in enumerate(data["registrations"]["members"]):
        seminars.register(users[username], seminar, [workshops[n % len(workshops)]])
    minutes, preparation, follow_up = data["minutes"], data["preparation"], data["follow_up"]
    seminars.publish_minutes(admin, sessions[minutes["session"] - 1], _markdown(minutes["text"]))
    seminars.open_preparation(
        users[preparation["author"]],
        sessions[preparation["session"] - 1],
        preparation["title"],
        preparation["body"],
    )
    seminars.open_follow_up(
        admin, sessions[follow_up["session"] - 1], follow_up["title"], follow_up["body"]
    )


def seed() -> list[tuple[str, str, str]] | None:
    """Load the demo; return the (username, password, role) created, None if already loaded."""
    if accounts.find_by_login(ADMIN_USERNAME) is not None:
        return None
    rng = random.Random(2026)  # noqa: S311 - demo dates, not secrets
    now = utcnow()
    users: dict[str, User] = {}
    created = []
    people = _load("accounts")
    for item in people["users"]:
        role = Role(item["role"])
        username, password = item["username"], people["passwords"][role.value]
        user = accounts.register(username, f"{username}@exemple.org", password, role=role)
        user.created_at = now - timedelta(days=rng.uniform(60, 400))
        accounts.update_profile(
            user,
            display_name=item["display_name"],
            bio=_markdown(item["bio"]),
            family=Family(item["family"]).value,
            organisation=item["organisation"],
            territory=item["territory"],
        )
        users[username] = user
        created.append((username, password, role.value))

    for slug in THREAD_THEMES:
        theme = db.session.execute(select(Theme).where(Theme.slug == slug)).scalar_one()
        for item in _load(f"threads-{slug}")["threads"]:
            thread = discussions.create_thread(
                users[item["author"]], theme, item["title"], _markdown(item["body"])
            )
            posts: list[Post | None] = [None]  # None stands for the opening post, as in reply()
            for answer in item.get("replies", []):
                post = discussions.reply(
                    users[answer["author"]],
                    thread,
                    _markdown(answer["text"]),
                    parent=posts[answer["parent"]],
                )
                posts.append(post)
            _spread_over_weeks(thread, rng, now)
    # Each domain's demo, in this order (a seeder takes the accounts above and "now").
    _seed_seminar(users, now)
    messages_demo.seed(users)
    directory_demo.seed(users, now)
    return created
