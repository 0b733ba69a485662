"""A benchmark data set: a realistic forum written in bulk, in the state the services leave.

:func:`make_plan` decides everything (users, threads, the shape of each reply tree, who
wrote what, when, with which body) from a seed, without touching the database;
:func:`write_plan` then writes that plan with Core ``INSERT`` statements in large batches
— users, threads, posts with their materialised paths, every counter, the rendered HTML
and the search index rows — so that the rows are those
:func:`forum.discussions.services.reply` would have produced for the same plan
(``tests/test_bench_data.py`` replays a small plan through the services and compares).

Bodies come from a pool of a few thousand distinct French-like Markdown texts, rendered
once each and reused: rendering a million bodies would take longer than the whole load.
"""

from __future__ import annotations

import itertools
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import Connection, func, insert, select, text, update

from forum import content
from forum.accounts.models import Family, User
from forum.accounts.services import hash_password
from forum.db import utcnow, write_intent
from forum.discussions.models import MAX_STORED_DEPTH, Post, Theme, Thread, path_segment
from forum.discussions.services import slugify
from forum.extensions import db
from forum.search.models import POST, SearchEntry
from forum.search.services import _text as index_text
from forum.search.text import normalise
from forum.seminars.models import Seminar, Session, SessionThread

#: Password of every generated account (the load generator logs in with it).
PASSWORD = "bench-mot-de-passe-solide"  # noqa: S105 - a benchmark fixture, local only
#: Rows per INSERT batch (and per transaction for posts).
BATCH = 20_000
#: Sizes of the few very long threads, when the data set is large enough for them.
LONG_THREADS = (2000, 500, 50)

_WORDS = str.split(
    "coopérative mutuelle association syndicat comité entreprise territoire commune région "
    "département habitant·es élu·es service public logement transport santé emploi formation "
    "économie sociale solidaire insertion quartier projet financement subvention budget "
    "participation démocratie dialogue social salarié·es accord négociation convention "
    "collective retraite protection sociale solidarité intercommunalité développement local "
    "circuit court alimentation énergie rénovation mobilité école culture sport jeunesse "
    "vieillissement handicap accompagnement bénévoles adhérent·es assemblée générale statuts "
    "gouvernance partage expérience réseau partenaires mise en relation médiation offre besoin "
    "demande proposition question réponse débat séminaire atelier compte rendu synthèse "
    "décision vote calendrier réunion permanence accueil information formation numérique"
)
_OPENERS = (
    "Je rejoins ce qui a été dit sur",
    "Dans notre comité, nous avons travaillé sur",
    "Une question concrète à propos de",
    "Chez nous, la mutuelle a mis en place",
    "Pour la commune, le vrai sujet reste",
    "Je ne suis pas d'accord sur",
    "Retour d'expérience sur",
    "Il faudrait distinguer deux choses dans",
    "Merci pour ce partage sur",
    "Nuance importante concernant",
)
_TITLES = (
    "Quel avenir pour {a} et {b} ?",
    "{A} : retours d'expérience des territoires",
    "Comment financer {a} dans notre {b} ?",
    "{A} et {b} : ce que proposent les syndicats",
    "Mutualiser {a} entre associations",
    "{A} dans les quartiers : qui fait quoi ?",
    "Débat : {a}, {b} et services publics",
)
_CITIES = ("Lyon", "Lille", "Nantes", "Rennes", "Montreuil", "Grenoble", "Tulle", "Brest")


_SYLLABLES = str.split("ba ro mi lu sé ta ni co vé pa ra do li mé nu ge ja qué fo ri")
#: Words follow Zipf's law, like any text: the domain words first, then rarer ones.
_VOCABULARY = _WORDS + [
    a + b + c + "e" for a in _SYLLABLES[:12] for b in _SYLLABLES[6:18] for c in _SYLLABLES[:12]
]
_CUMULATIVE = list(itertools.accumulate(1 / rank for rank in range(1, len(_VOCABULARY) + 1)))


def _sentence(rng: random.Random) -> str:
    words = rng.choices(_VOCABULARY, cum_weights=_CUMULATIVE, k=rng.randint(6, 18))
    return f"{rng.choice(_OPENERS)} {' '.join(words)}."


def make_body(rng: random.Random) -> str:
    """A French-like Markdown body: paragraphs, sometimes a list, emphasis, a quote, a link."""
    paragraphs = []
    count = rng.choice((1, 1, 1, 2, 2, 3, 4)) + (rng.randint(4, 8) if rng.random() < 0.05 else 0)
    for _ in range(count):
        sentences = [_sentence(rng) for _ in range(rng.randint(1, 4))]
        if rng.random() < 0.2:
            sentences[0] = f"**{sentences[0]}**"
        paragraphs.append(" ".join(sentences))
    roll = rng.random()
    if roll < 0.12:
        paragraphs.insert(0, "> " + _sentence(rng))
    elif roll < 0.22:
        paragraphs.append("\n".join(f"- {rng.choice(_WORDS)} {rng.choice(_WORDS)}" for _ in "123"))
    elif roll < 0.27:
        paragraphs.append(f"Voir https://exemple.org/{rng.choice(_WORDS)}-{rng.randint(1, 99)}")
    return "\n\n".join(paragraphs)


def make_title(rng: random.Random, number: int) -> str:
    a, b = rng.choice(_WORDS), rng.choice(_WORDS)
    title = rng.choice(_TITLES).format(a=a, b=b, A=a.capitalize())
    return f"{title} ({rng.choice(_CITIES)}, n°{number})"


@dataclass
class ThreadPlan:
    """One thread: ``parents[i]`` is the index of the post post ``i`` answers (-1: opening)."""

    theme_id: int
    title: str
    parents: list[int] = field(default_factory=list)
    authors: list[int] = field(default_factory=list)
    bodies: list[int] = field(default_factory=list)
    #: Seconds after the data set's start, increasing along the thread.
    times: list[float] = field(default_factory=list)


@dataclass
class Plan:
    users: int
    bodies: list[str]
    threads: list[ThreadPlan]
    #: Span of the data set in seconds, ending now.
    span: float

    @property
    def posts(self) -> int:
        return sum(len(t.parents) for t in self.threads)


def default_threads(posts: int) -> int:
    return max(3, posts // 25)


def default_users(posts: int) -> int:
    return max(10, posts // 40)


def _sizes(rng: random.Random, posts: int, threads: int) -> list[int]:
    """Posts per thread: a few very long ones, the rest skewed (most short, some long)."""
    threads = max(1, min(threads, posts))
    long = [n for n in LONG_THREADS if posts >= 2 * sum(LONG_THREADS)]
    if not long:  # small data sets keep the shape, scaled down
        long = [n for n in (posts // 5, posts // 10) if n >= 2][: max(0, threads - 1)]
    rest_threads = threads - len(long)
    rest_posts = posts - sum(long)
    if rest_threads <= 0:
        return [posts]
    weights = [rng.lognormvariate(0, 1.1) for _ in range(rest_threads)]
    extra = rest_posts - rest_threads
    scale = extra / sum(weights)
    sizes = [1 + min(int(w * scale), 400) for w in weights]
    for _ in range(rest_posts - sum(sizes)):
        sizes[rng.randrange(rest_threads)] += 1
    sizes = long + sizes
    rng.shuffle(sizes)
    return sizes


def _tree(rng: random.Random, size: int) -> list[int]:
    """Parent index of each post: mostly shallow replies, conversations, a few deep branches."""
    parents, depths = [-1], [0]
    shallow = [0]
    chain = set()
    if size >= 20:  # a deep branch (a back-and-forth going on beyond the thread page)
        length = 40 if size >= 1000 else rng.randint(8, 14)
        start = rng.randint(1, max(1, size - length - 1))
        chain = set(range(start + 1, min(size, start + length)))
    for i in range(1, size):
        roll = rng.random()
        if i in chain:
            parent = i - 1
        elif roll < 0.45:
            parent = 0
        elif roll < 0.80:
            parent = rng.choice(shallow)
        elif roll < 0.95:
            parent = i - 1
        else:
            parent = rng.randrange(i)
        if depths[parent] >= MAX_STORED_DEPTH:
            parent = 0
        parents.append(parent)
        depths.append(depths[parent] + 1)
        if depths[-1] <= 2:
            shallow.append(i)
    return parents


def make_plan(
    posts: int,
    threads: int | None = None,
    users: int | None = None,
    theme_ids: list[int] | None = None,
    seed: int = 7,
    pool: int = 3000,
) -> Plan:
    """Everything the data set holds, decided from ``seed``; no database access."""
    rng = random.Random(seed)  # noqa: S311 - reproducible data, not secrets
    threads = threads or default_threads(posts)
    users = users or default_users(posts)
    theme_ids = theme_ids or [1]
    bodies = [make_body(rng) for _ in range(min(pool, posts))]
    span = 365 * 86400.0
    plans = []
    for number, size in enumerate(_sizes(rng, posts, threads), start=1):
        start = rng.uniform(0, span * 0.97)
        duration = rng.uniform(0.02, 1.0) * (span - start)
        plan = ThreadPlan(theme_id=rng.choice(theme_ids), title=make_title(rng, number))
        plan.parents = _tree(rng, size)
        # Activity is skewed: a few members write a lot.
        plan.authors = [int(users * rng.random() ** 2) for _ in range(size)]
        plan.bodies = [rng.randrange(len(bodies)) for _ in range(size)]
        plan.times = [start + duration * (i + rng.random()) / size for i in range(size)]
        plan.times[0] = start
        plans.append(plan)
    # Threads in the order they were opened, as the services would number them.
    plans.sort(key=lambda p: p.times[0])
    return Plan(users=users, bodies=bodies, threads=plans, span=span)


# -- writing ---------------------------------------------------------------------------------


@dataclass
class Report:
    users: int = 0
    threads: int = 0
    posts: int = 0
    #: Ids of the first user, thread and post written (the rest follow in plan order).
    first_ids: tuple[int, int, int] = (0, 0, 0)
    seconds: dict[str, float] = field(default_factory=dict)


def _next_id(conn: Connection, column) -> int:
    return (conn.execute(select(func.max(column))).scalar() or 0) + 1


def _batches(rows: Iterator[dict], size: int = BATCH) -> Iterator[list[dict]]:
    batch: list[dict] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


class _Load:
    """The connection of a bulk load, with the speed settings of each database."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.dialect = conn.dialect.name
        self.saved: list[tuple[str, str]] = []

    def __enter__(self) -> _Load:
        if self.dialect == "sqlite":
            raw = self.conn.connection.driver_connection
            # Between transactions only: the pragmas are no-ops inside one.
            raw.execute("PRAGMA synchronous = OFF")
            raw.execute("PRAGMA foreign_keys = OFF")
            raw.execute("PRAGMA cache_size = -262144")  # 256 MB
            # The FTS5 mirror is rebuilt once at the end instead of row by row.
            self.saved = list(
                raw.execute(
                    "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' "
                    "AND tbl_name = 'search_entries'"
                )
            )
            for name, _sql in self.saved:
                raw.execute(f"DROP TRIGGER {name}")
        elif self.dialect == "postgresql":
            self.saved = list(
                self.conn.execute(
                    text(
                        "SELECT indexname, indexdef FROM pg_indexes "
                        "WHERE schemaname = current_schema() AND tablename = 'search_entries' "
                        "AND indexdef LIKE '%USING gin%'"
                    )
                ).tuples()
            )
            for name, _sql in self.saved:
                self.conn.execute(text(f"DROP INDEX {name}"))
            self.conn.commit()
        return self

    def __exit__(self, *exc) -> None:
        if self.conn.in_transaction():
            self.conn.rollback()
        if self.dialect == "sqlite":
            raw = self.conn.connection.driver_connection
            for _name, sql in self.saved:
                raw.execute(sql)
            if exc[0] is None:
                raw.execute("INSERT INTO search_fts(search_fts) VALUES ('rebuild')")
            raw.execute("PRAGMA synchronous = NORMAL")
            raw.execute("PRAGMA foreign_keys = ON")
            raw.execute("PRAGMA cache_size = -2000")
            raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        elif self.dialect == "postgresql":
            for _name, sql in self.saved:
                self.conn.execute(text(sql))
            for table in ("users", "threads", "posts", "seminars", "seminar_sessions"):
                self.conn.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
                        f"(SELECT max(id) FROM {table}))"
                    )
                )
            self.conn.commit()
            self.conn.execute(text("ANALYZE"))
            self.conn.commit()

    def insert(self, table, rows: Iterator[dict]) -> None:
        for batch in _batches(rows):
            with write_intent():
                self.conn.execute(insert(table), batch)
                self.conn.commit()


def write_plan(plan: Plan, user_prefix: str = "lecteur") -> Report:
    """Write ``plan`` in bulk on the app's database (which may already hold a forum)."""
    report, clock = Report(), time.perf_counter()

    def lap(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        report.seconds[name] = round(now - clock, 2)
        clock = now

    rendered = [content.render_markdown(body) for body in plan.bodies]
    indexed = [index_text(html) for html in rendered]
    lap("render")
    now = utcnow()
    origin = now - timedelta(seconds=plan.span)
    families = [*(f.value for f in Family), None]
    with db.engine.connect() as conn, _Load(conn) as load:
        first_user = _next_id(conn, User.id)
        first_thread = _next_id(conn, Thread.id)
        first_post = _next_id(conn, Post.id)
        report.first_ids = (first_user, first_thread, first_post)
        user_posts = [0] * plan.users
        for t in plan.threads:
            for author in t.authors:
                user_posts[author] += 1
        theme_stats: dict[int, list] = {}
        password_hash = hash_password(PASSWORD)

        def thread_rows() -> Iterator[dict]:
            for number, t in enumerate(plan.threads):
                last = len(t.parents) - 1
                created = origin + timedelta(seconds=t.times[0])
                last_at = origin + timedelta(seconds=t.times[last])
                stats = theme_stats.setdefault(t.theme_id, [0, 0, None])
                stats[0] += 1
                stats[1] += len(t.parents)
                stats[2] = last_at if stats[2] is None else max(stats[2], last_at)
                yield {
                    "id": first_thread + number,
                    "theme_id": t.theme_id,
                    "author_id": first_user + t.authors[0],
                    "title": t.title,
                    "slug": slugify(t.title),
                    "reply_count": last,
                    "last_post_at": last_at,
                    "last_post_author_id": first_user + t.authors[last],
                    "pinned": False,
                    "locked": False,
                    "created_at": created,
                }

        def post_rows() -> Iterator[dict]:
            next_id = first_post
            for number, t in enumerate(plan.threads):
                thread_id = first_thread + number
                size = len(t.parents)
                children = [0] * size
                for parent in t.parents[1:]:
                    children[parent] += 1
                paths: list[str] = [""] * size
                depths = [0] * size
                ranks = [0] * size
                ids = range(next_id, next_id + size)
                for i in range(size):
                    parent = t.parents[i]
                    if parent >= 0:
                        ranks[parent] += 1
                        paths[i] = paths[parent] + path_segment(ranks[parent])
                        depths[i] = depths[parent] + 1
                    body = t.bodies[i]
                    yield {
                        "id": ids[i],
                        "thread_id": thread_id,
                        "parent_id": ids[parent] if parent >= 0 else None,
                        "author_id": first_user + t.authors[i],
                        "path": paths[i],
                        "depth": depths[i],
                        "child_count": children[i],
                        "body_source": plan.bodies[body],
                        "body_html": rendered[body],
                        "render_version": content.RENDER_VERSION,
                        "edit_count": 0,
                        "created_at": origin + timedelta(seconds=t.times[i]),
                    }
                next_id += size

        def search_rows() -> Iterator[dict]:
            post_id = first_post
            for t in plan.threads:
                title = normalise(t.title)
                for i, body in enumerate(t.bodies):
                    yield {
                        "kind": POST,
                        "object_id": post_id,
                        "title": title if i == 0 else "",
                        "body": indexed[body],
                    }
                    post_id += 1

        load.insert(
            User.__table__,
            (
                {
                    "id": first_user + n,
                    "username": f"{user_prefix}{first_user + n}",
                    "username_key": f"{user_prefix}{first_user + n}",
                    "email": f"{user_prefix}{first_user + n}@exemple.org",
                    "email_key": f"{user_prefix}{first_user + n}@exemple.org",
                    "password_hash": password_hash,
                    "role": "member",
                    "display_name": "",
                    "bio": "",
                    "family": families[n % len(families)],
                    "organisation": "",
                    "territory": _CITIES[n % len(_CITIES)],
                    "session_version": 1,
                    "post_count": user_posts[n],
                    "is_organiser": False,
                    "created_at": origin,
                }
                for n in range(plan.users)
            ),
        )
        lap("users")
        load.insert(Thread.__table__, thread_rows())
        lap("threads")
        load.insert(Post.__table__, post_rows())
        lap("posts")
        load.insert(SearchEntry.__table__, search_rows())
        lap("search rows")
        with write_intent():
            for theme_id, (threads, posts, last_at) in theme_stats.items():
                conn.execute(
                    update(Theme)
                    .where(Theme.id == theme_id)
                    .values(
                        thread_count=Theme.thread_count + threads,
                        post_count=Theme.post_count + posts,
                        last_post_at=func.coalesce(
                            func.max(Theme.last_post_at, last_at)
                            if conn.dialect.name == "sqlite"
                            else func.greatest(Theme.last_post_at, last_at),
                            last_at,
                        ),
                    )
                )
            _seminar(conn, now, first_thread, len(plan.threads))
            conn.commit()
    lap("index")
    report.users, report.threads, report.posts = plan.users, len(plan.threads), plan.posts
    return report


def _seminar(conn: Connection, now, first_thread: int, threads: int) -> None:
    """A published seminar to come, with a plenary and two workshops, linked to threads."""
    html = content.render_markdown("Une journée pour **débattre** et se rencontrer.")
    seminar_id = conn.execute(
        insert(Seminar)
        .values(
            title="Rencontres sociales (séminaire de charge)",
            description_source="Une journée pour **débattre** et se rencontrer.",
            description_html=html,
            render_version=content.RENDER_VERSION,
            venue="Amphithéâtre Le d'Artagnan",
            address="80 rue de Vitruve, 75020 Paris",
            starts_at=now + timedelta(days=30),
            ends_at=now + timedelta(days=30, hours=8),
            capacity=300,
            seats_taken=0,
            status="published",
            created_at=now,
        )
        .returning(Seminar.id)
    ).scalar_one()
    for number, (title, kind) in enumerate(
        (
            ("Plénière d'ouverture", "plenary"),
            ("Atelier logement", "workshop"),
            ("Atelier mobilités", "workshop"),
        )
    ):
        starts = now + timedelta(days=30, hours=number * 2)
        session_id = conn.execute(
            insert(Session)
            .values(
                seminar_id=seminar_id,
                title=title,
                kind=kind,
                starts_at=starts,
                ends_at=starts + timedelta(hours=2),
                room=f"Salle {number + 1}",
                speakers="Camille Martin, Coopérative du Nord",
                description_source="",
                description_html="",
                capacity=None if kind == "plenary" else 40,
                seats_taken=0,
                minutes_source="",
                minutes_html="",
                render_version=content.RENDER_VERSION,
                created_at=now,
            )
            .returning(Session.id)
        ).scalar_one()
        if number < threads:
            conn.execute(
                insert(SessionThread).values(
                    session_id=session_id,
                    thread_id=first_thread + number,
                    kind="preparation",
                    created_at=now,
                )
            )
