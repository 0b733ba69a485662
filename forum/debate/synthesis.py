"""A thread's synthesis (*synthèse*): drafted, approved by participants, published.

Four sections — points d'accord, désaccords, questions ouvertes, propositions —
each Markdown, one point per list item, citing posts of the thread as
``[[post:123]]``. The Markdown is rendered once at write time; a citation stays
in the stored HTML as the marker ``⟦cite:123⟧`` and is filled in for each reader
(:func:`render_for`): a link to the post and a ``<blockquote>`` excerpt, or
"message retiré" when the reader may not see the post.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from flask import url_for
from flask_babel import gettext as _
from markupsafe import Markup, escape
from sqlalchemy import delete, select
from sqlalchemy.orm import joinedload

from forum import content
from forum.accounts.models import AnonymousUser, User
from forum.db import upsert, utcnow
from forum.debate.models import (
    CITATION_MARKER_RE,
    SYNTHESIS_SECTIONS,
    Synthesis,
    SynthesisApproval,
    SynthesisRevision,
    synthesis_text,
)
from forum.discussions.models import Post, Thread
from forum.extensions import db
from forum.pages.versions import touch
from forum.permissions import Action, can, ensure, visible_posts
from forum.refusals import Refused
from forum.search import services as search

SECTIONS = SYNTHESIS_SECTIONS
SECTION_LIMIT = 20_000
CITATION_RE = re.compile(r"\[\[post:(\d{1,10})\]\]")
MARKER_RE = CITATION_MARKER_RE
EXCERPT_LENGTH = 280


def section_titles() -> dict[str, str]:
    return {
        "consensus": _("Points d'accord"),
        "disagreements": _("Désaccords"),
        "questions": _("Questions ouvertes"),
        "proposals": _("Propositions"),
    }


def cited_ids(sources: dict[str, str]) -> list[int]:
    found: list[int] = []
    for name in SECTIONS:
        for match in CITATION_RE.finditer(sources.get(name) or ""):
            post_id = int(match.group(1))
            if post_id not in found:
                found.append(post_id)
    return found


def _render(sources: dict[str, str]) -> str:
    rendered = {
        name: content.render_markdown(CITATION_RE.sub(r"⟦cite:\1⟧", sources[name]))
        if sources[name].strip()
        else ""
        for name in SECTIONS
    }
    return json.dumps(rendered, ensure_ascii=False)


def synthesis_of(thread: Thread) -> Synthesis | None:
    return db.session.execute(select(Synthesis).where(Synthesis.thread_id == thread.id)).scalar()


def published_of(thread: Thread) -> Synthesis | None:
    return db.session.execute(
        select(Synthesis)
        .options(joinedload(Synthesis.author))
        .where(Synthesis.thread_id == thread.id, Synthesis.published_at.is_not(None))
    ).scalar()


def thread_with_published(thread_id: int) -> tuple[Thread | None, Synthesis | None]:
    """The thread and its published synthesis with its author (None if none), one query."""
    row = db.session.execute(
        select(Thread, Synthesis)
        .outerjoin(
            Synthesis,
            (Synthesis.thread_id == Thread.id) & Synthesis.published_at.is_not(None),
        )
        .options(joinedload(Synthesis.author))
        .where(Thread.id == thread_id)
    ).first()
    return (row[0], row[1]) if row is not None else (None, None)


def published_for_threads(thread_ids: list[int]) -> dict[int, Synthesis]:
    """Published syntheses of these threads, by thread id (one query; none for no ids)."""
    if not thread_ids:
        return {}
    rows = db.session.execute(
        select(Synthesis).where(
            Synthesis.thread_id.in_(thread_ids), Synthesis.published_at.is_not(None)
        )
    ).scalars()
    return {row.thread_id: row for row in rows}


def save(editor: User, thread: Thread, **sources: str) -> Synthesis:
    """Create or replace the synthesis of ``thread``; the previous text becomes a revision.

    A change to a draft starts a new approval round (earlier approvals are dropped).

    :raise Refused: a NUL byte, a section too long, an empty synthesis, a citation of a
        post that is not in the thread.
    :raise 403: ``editor`` may not write this thread's synthesis.
    """
    ensure(editor, Action.SYNTHESIS_EDIT, thread)
    sources = {name: (sources.get(name) or "").replace("\r\n", "\n").strip() for name in SECTIONS}
    text = "".join(sources.values())
    if "\x00" in text:
        raise Refused(_("Le texte contient un caractère nul : retirez-le puis réessayez."))
    if not text:
        raise Refused(_("La synthèse est vide : écrivez au moins un point."))
    for value in sources.values():
        if len(value) > SECTION_LIMIT:
            raise Refused(
                _("Une section dépasse %(limit)d caractères : resserrez-la.", limit=SECTION_LIMIT)
            )
    ids = cited_ids(sources)
    if ids:
        found = set(
            db.session.execute(
                select(Post.id).where(Post.id.in_(ids), Post.thread_id == thread.id)
            ).scalars()
        )
        missing = [str(post_id) for post_id in ids if post_id not in found]
        if missing:
            raise Refused(
                _(
                    "Ces citations ne renvoient à aucun message de ce fil : %(ids)s.",
                    ids=", ".join(missing),
                )
            )
    now = utcnow()
    synthesis = synthesis_of(thread)
    if synthesis is None:
        synthesis = Synthesis(thread_id=thread.id, author_id=editor.id, created_at=now)
        db.session.add(synthesis)
    else:
        if all(getattr(synthesis, name) == sources[name] for name in SECTIONS):
            return synthesis
        db.session.add(
            SynthesisRevision(
                synthesis_id=synthesis.id,
                editor_id=editor.id,
                body_html=synthesis.body_html,
                replaced_at=now,
                **{name: getattr(synthesis, name) for name in SECTIONS},
            )
        )
        synthesis.edit_count = Synthesis.edit_count + 1
        if not synthesis.is_published:
            db.session.execute(
                delete(SynthesisApproval).where(SynthesisApproval.synthesis_id == synthesis.id)
            )
    for name in SECTIONS:
        setattr(synthesis, name, sources[name])
    synthesis.body_html = _render(sources)
    synthesis.render_version = content.RENDER_VERSION
    synthesis.updated_at = now
    db.session.flush()
    if synthesis.is_published:
        _index(synthesis, thread)
        touch(thread=thread)
    db.session.commit()
    return synthesis


def approve(user: User, synthesis: Synthesis) -> None:
    """``user``, a participant of the thread, approves the draft (twice changes nothing).

    :raise 403: not a participant, the synthesis's own author, or already published.
    """
    ensure(user, Action.SYNTHESIS_APPROVE, synthesis)
    stmt = upsert(db.session, SynthesisApproval).values(
        synthesis_id=synthesis.id, user_id=user.id, created_at=utcnow()
    )
    db.session.execute(stmt.on_conflict_do_nothing())
    db.session.commit()


def publish(actor: User, synthesis: Synthesis) -> Synthesis:
    """Publish the draft: on top of the thread, in its feed and in search.

    :raise 403: ``actor`` is neither its author nor a moderator of the theme.
    """
    ensure(actor, Action.SYNTHESIS_PUBLISH, synthesis)
    if synthesis.is_published:
        return synthesis
    synthesis.published_at = utcnow()
    _index(synthesis, synthesis.thread)
    touch(thread=synthesis.thread)  # on top of the thread, in its feed, on its session page
    db.session.commit()
    return synthesis


def _index(synthesis: Synthesis, thread: Thread) -> None:
    """Make the published synthesis findable: a search row of its own ("Synthèse — <title>"),
    rewritten at each publication and edit, so editing the opening post or ``flask forum
    reindex`` keeps it. The opening post's row is rewritten from the post alone (syntheses
    published before had their words there)."""
    search.index_synthesis(synthesis, thread, plain_text(synthesis))
    search.index_thread(thread)


#: Characters of each post shown by the citation picker.
PICKER_EXCERPT = 160


@dataclass
class Citable:
    """A post the synthesis's editor may cite: its code to copy, author and excerpt."""

    post_id: int
    author: str
    excerpt: str

    @property
    def code(self) -> str:
        return f"[[post:{self.post_id}]]"


def citable_posts(thread: Thread, viewer) -> list[Citable]:
    """The thread's posts ``viewer`` may read, in thread order, for the citation picker
    of the synthesis form: one query whatever the thread's size."""
    rows = db.session.execute(
        visible_posts(
            select(Post.id, Post.body_html, User.username)
            .join(User, User.id == Post.author_id)
            .where(Post.thread_id == thread.id)
            .order_by(Post.path),
            viewer,
        )
    ).all()
    return [
        Citable(row.id, row.username, content.plain_text(row.body_html, limit=PICKER_EXCERPT))
        for row in rows
    ]


def approvals_of(synthesis: Synthesis) -> list[SynthesisApproval]:
    return list(
        db.session.execute(
            select(SynthesisApproval)
            .options(joinedload(SynthesisApproval.user))
            .where(SynthesisApproval.synthesis_id == synthesis.id)
            .order_by(SynthesisApproval.created_at)
        ).scalars()
    )


def revisions_of(synthesis: Synthesis) -> list[SynthesisRevision]:
    return list(
        db.session.execute(
            select(SynthesisRevision)
            .options(joinedload(SynthesisRevision.editor))
            .where(SynthesisRevision.synthesis_id == synthesis.id)
            .order_by(SynthesisRevision.id.desc())
        ).scalars()
    )


# -- reading ----------------------------------------------------------------------------------


def _cited_posts(body_html: str) -> dict[int, Post]:
    ids = sorted({int(match) for match in MARKER_RE.findall(body_html)})
    if not ids:
        return {}
    posts = db.session.execute(
        select(Post)
        .options(joinedload(Post.author), joinedload(Post.thread))
        .where(Post.id.in_(ids))
    ).scalars()
    return {post.id: post for post in posts}


def _readable(viewer, post: Post | None) -> bool:
    return (
        post is not None
        and not post.is_deleted
        and can(viewer, Action.THREAD_VIEW, post.thread)
        and can(viewer, Action.POST_READ_HIDDEN, post)
    )


def render_for(synthesis: Synthesis, viewer) -> dict[str, Markup]:
    """The four sections' HTML for ``viewer``, citations filled in (one query for them)."""
    return render_many([synthesis], viewer)[synthesis.id]


def render_many(syntheses: list[Synthesis], viewer) -> dict[int, dict[str, Markup]]:
    """:func:`render_for` of several syntheses (by id), their cited posts in one query."""
    posts = _cited_posts("".join(found.body_html or "" for found in syntheses))
    withdrawn = escape(_("message retiré"))

    def cite(match: re.Match) -> str:
        post = posts.get(int(match.group(1)))
        if not _readable(viewer, post):
            return f'<span class="citation withdrawn">[{withdrawn}]</span>'
        url = url_for("discussions.permalink", post_id=post.id)
        name = escape(post.author.username)
        excerpt = escape(content.plain_text(post.body_html, limit=EXCERPT_LENGTH))
        return (
            f'<a class="citation" href="{url}">[{name}]</a>'
            f'<blockquote class="citation-excerpt">{excerpt}</blockquote>'
        )

    rendered = {}
    for found in syntheses:
        stored = json.loads(found.body_html or "{}")
        rendered[found.id] = {
            # Sanitised when written; the markers are filled with escaped text only.
            name: Markup(MARKER_RE.sub(cite, stored.get(name, "")))  # noqa: S704
            for name in SECTIONS
        }
    return rendered


def plain_text(synthesis: Synthesis) -> str:
    """The synthesis's text without its citations (search, feeds)."""
    return synthesis_text(synthesis.body_html)


def html_for_feed(synthesis: Synthesis) -> str:
    """The published synthesis as an anonymous reader sees it, sections titled."""
    sections = render_for(synthesis, AnonymousUser())
    titles = section_titles()
    return "".join(
        f"<h2>{escape(titles[name])}</h2>{sections[name]}" for name in SECTIONS if sections[name]
    )


def markdown_export(synthesis: Synthesis) -> str:
    """Markdown with absolute links to the cited posts; what an anonymous reader may see."""
    viewer = AnonymousUser()
    posts = _cited_posts("".join(f"⟦cite:{post_id}⟧" for post_id in cited_ids(_sources(synthesis))))
    thread = synthesis.thread
    lines = [
        f"# {_('Synthèse')} : {thread.title}",
        "",
        url_for("discussions.thread", thread_id=thread.id, _external=True),
        "",
    ]
    titles = section_titles()
    for name in SECTIONS:
        source = getattr(synthesis, name)
        if not source:
            continue
        lines += [f"## {titles[name]}", ""]
        for line in source.splitlines():
            quotes: list[str] = []

            def cite(match: re.Match, quotes=quotes) -> str:
                post = posts.get(int(match.group(1)))
                if not _readable(viewer, post):
                    return f"[{_('message retiré')}]"
                url = url_for("discussions.permalink", post_id=post.id, _external=True)
                quotes.append(content.plain_text(post.body_html, limit=EXCERPT_LENGTH))
                return f"[{post.author.username}]({url})"

            lines.append(CITATION_RE.sub(cite, line))
            indent = "  " if line.lstrip().startswith(("-", "*", "+")) else ""
            lines += [f"{indent}> {quote}" for quote in quotes]
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def _sources(synthesis: Synthesis) -> dict[str, str]:
    return {name: getattr(synthesis, name) for name in SECTIONS}
