"""A member who touched every feature of the forum, for the export and erasure tests."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from forum.accounts.models import User
from forum.debate import services as debate
from forum.directory import services as directory
from forum.discussions import services as discussions
from forum.discussions.models import Post, Theme
from forum.extensions import db
from forum.messages import blocks
from forum.messages import services as conversations
from forum.moderation import reports, sanctions
from forum.notifications import preferences, watching
from forum.seminars import services as seminars
from forum.seminars.models import Seminar
from tests.factories import make_reply, make_thread, make_user
from tests.seminars.test_seminars import make_seminar

USERNAME, DISPLAY, EMAIL = "ondine_r", "Ondine Rameau", "ondine_r@exemple.org"


@dataclass
class Everywhere:
    user_id: int
    thread_id: int
    kept_post_id: int
    bruno_reply_id: int
    seminar_id: int
    waiting_id: int


def member_everywhere(app) -> Everywhere:
    """``ondine_r`` opens a thread, replies, edits, is mentioned and quoted, reports,
    is warned, registers to a full seminar, follows a theme, sets a preference, writes
    privately to bruno (who mentions her there), blocks claire, represents an organisation
    alone, reacts, opens a poll and votes."""
    ondine = make_user(
        app, USERNAME, display_name=DISPLAY, bio="Militante des services publics.",
        organisation="Union locale", territory="Montreuil",
    )  # fmt: skip
    bruno, claire = make_user(app, "bruno"), make_user(app, "claire")
    modo = make_user(app, "veille", role="moderator")
    organiser = make_user(app, "orga", role="admin")
    thread = make_thread(app, ondine, title="La poste du bourg ferme le samedi")
    kept = make_reply(app, ondine, thread, body="Nous avons obtenu un maintien des horaires.")
    bruno_reply = make_reply(
        app, bruno, thread, parent=kept, body="Merci @ondine_r, comment avez-vous fait ?"
    )
    seminar_id = make_seminar(app, organiser, capacity=1)
    with app.app_context():
        user = db.session.get(User, ondine.id)
        post = db.session.get(Post, kept.id)
        discussions.edit_post(user, post, "Nous avons obtenu le maintien des horaires du samedi.")
        quoted = discussions.reply(
            db.session.get(User, claire.id),
            post.thread,
            "> **Ondine Rameau** a écrit :\n>\n> Nous avons obtenu\n\nBravo !",
            post,
        )
        reports.report_post(user, db.session.get(Post, bruno_reply.id), "off_topic", "Hors sujet ?")
        sanctions.sanction(db.session.get(User, modo.id), user, "warn", None, "Ton trop vif.")
        seminar = db.session.get(Seminar, seminar_id)
        seminars.register(user, seminar)
        waiting = seminars.register(db.session.get(User, claire.id), seminar)
        theme = db.session.execute(select(Theme).where(Theme.slug == "urbain")).scalar_one()
        watching.watch_theme(user, theme, "watching")
        preferences.set_preferences(user, {"reply": "digest"})
        conversation = conversations.start_conversation(
            user, [db.session.get(User, bruno.id)], "Horaires de la poste", "On en parle ?"
        )
        conversations.post_message(
            conversation, db.session.get(User, bruno.id), "Oui @ondine_r, demain matin."
        )
        blocks.block(user, db.session.get(User, claire.id))
        # The directory: she represents her union alone; the debate: a reaction, a poll, a vote.
        directory.create_organisation(
            user, "Union locale de Montreuil", "syndical", "union_locale", "11", "93", "", ""
        )
        debate.toggle_reaction(user, db.session.get(Post, bruno_reply.id), "merci")
        poll = debate.create_poll(
            user, post.thread, question="Un samedi par mois ?", options="Oui\nNon"
        )
        debate.vote(user, poll, [poll.options[0].id])
        assert quoted.id
        return Everywhere(
            user_id=ondine.id,
            thread_id=thread.id,
            kept_post_id=kept.id,
            bruno_reply_id=bruno_reply.id,
            seminar_id=seminar_id,
            waiting_id=waiting.id,
        )
