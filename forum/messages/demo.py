"""Demo content of private conversations: a first contact between a works council and a
cooperative, the kind of *mise en relation* the forum exists for."""

from __future__ import annotations

from forum.accounts.models import User
from forum.extensions import db
from forum.messages import services
from forum.refusals import Refused

CONVERSATION = (
    "karim.cse",
    ["camille-scop"],
    "Restauration collective : une piste pour notre CSE ?",
    [
        (
            "karim.cse",
            "Bonjour Camille, j'ai lu votre message sur les cantines en circuit court. Notre CSE "
            "cherche un prestataire pour le restaurant d'entreprise (400 couverts par jour). "
            "Votre coopérative pourrait-elle nous présenter son offre ?",
        ),
        (
            "camille-scop",
            "Bonjour Karim, avec plaisir ! Nous travaillons déjà avec deux comités d'entreprise. "
            "Je vous propose un échange de 30 minutes la semaine prochaine, **mardi ou jeudi** ?",
        ),
    ],
)


def seed(users: dict[str, User]) -> None:
    """Start the demo conversation (the demo's accounts are given by username)."""
    starter, recipients, subject, messages = CONVERSATION
    if starter not in users or any(name not in users for name in recipients):
        return
    (_author, first), *rest = messages
    try:
        conversation = services.start_conversation(
            users[starter], [users[name] for name in recipients], subject, first, origin="demo"
        )
        for author, body in rest:
            services.post_message(conversation, users[author], body)
    except Refused:  # unverified demo accounts while a mail server is set: no conversation
        db.session.rollback()
