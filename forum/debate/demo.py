"""Demo content of the structured debate, loaded by ``flask forum seed-demo`` after the rest.

Positions on the demo threads' replies, reactions, an open and a closed poll, and a
published synthesis of "Développement local : les coopératives…" citing its posts.
Everything goes through the services the web pages use.
"""

from __future__ import annotations

from sqlalchemy import select

from forum.accounts.models import User
from forum.debate import services, synthesis
from forum.debate.models import Poll
from forum.debate.polls import poll_or_none
from forum.discussions import services as discussions
from forum.discussions.models import Post, Thread
from forum.extensions import db

COOPERATIVES = "Développement local : les coopératives, un outil pour les collectivités ?"
CSE = "CSE et ESS"
#: Reply number (1-based, in the order of the demo) -> position towards the post answered.
COOPERATIVES_POSITIONS = {
    1: "pour", 2: "question", 4: "pour", 5: "contre", 6: "nuance", 7: "contre",
    8: "nuance", 9: "nuance", 11: "pour", 12: "pour", 13: "question",
}  # fmt: skip
#: Direct replies to other threads' opening posts take these positions in turn.
CYCLE = ("pour", "nuance", "contre", "pour", "question")
#: (reply number, reactor, reaction) on the coopératives thread.
REACTIONS = [
    (1, "lucie-tierslieu", "d_accord"), (1, "elue-montreuil", "d_accord"),
    (1, "marc.cc3v", "merci"), (4, "camille-scop", "bien_vu"), (4, "marc.cc3v", "merci"),
    (7, "karim.cse", "d_accord"), (7, "camille-scop", "bien_vu"), (8, "yannick-ul", "merci"),
    (12, "marc.cc3v", "merci"), (14, "marc.cc3v", "merci"), (14, "elue-montreuil", "bien_vu"),
]  # fmt: skip


def _users() -> dict[str, User]:
    return {user.username: user for user in db.session.execute(select(User)).scalars()}


def _replies(thread: Thread) -> list[Post]:
    """The thread's replies in the order the demo wrote them."""
    return list(
        db.session.execute(
            select(Post)
            .where(Post.thread_id == thread.id, Post.parent_id.is_not(None))
            .order_by(Post.id)
        ).scalars()
    )


def _take_position(post: Post, position: str, users: dict[int, User]) -> None:
    discussions.edit_post(users[post.author_id], post, post.body_source, position=position)


def seed() -> None:
    """Add the debate demo (once: nothing happens if a poll exists already)."""
    if db.session.execute(select(Poll.id).limit(1)).scalar() is not None:
        return
    users = _users()
    by_id = {user.id: user for user in users.values()}
    threads = {thread.title: thread for thread in db.session.execute(select(Thread)).scalars()}
    coops = threads[COOPERATIVES]
    replies = _replies(coops)
    for number, position in COOPERATIVES_POSITIONS.items():
        _take_position(replies[number - 1], position, by_id)
    for thread in threads.values():
        if thread.id == coops.id:
            continue
        direct = [p for p in _replies(thread) if p.depth == 1 and p.author_id != thread.author_id]
        for n, post in enumerate(direct):
            _take_position(post, CYCLE[n % len(CYCLE)], by_id)
    for number, username, kind in REACTIONS:
        services.toggle_reaction(users[username], replies[number - 1], kind)

    poll = services.create_poll(
        users["marc.cc3v"],
        coops,
        question="Quel projet coopératif la communauté de communes devrait-elle soutenir en premier ?",
        options="La centrale photovoltaïque citoyenne\nLe café-épicerie du village\n"
        "La ressourcerie d'insertion\nLe centre de santé en SCIC",
        results="always",
    )
    poll = poll_or_none(poll.id)
    options = [option.id for option in poll.options]
    for n, username in enumerate(
        ["camille-scop", "lucie-tierslieu", "yannick-ul", "elue-montreuil", "sophie.mutuelle"]
    ):
        services.vote(users[username], poll, [options[(n * 3) % len(options)]])

    cse = next(thread for title, thread in threads.items() if title.startswith(CSE))
    closed = services.create_poll(
        users[cse.author.username],
        cse,
        question="Votre CSE travaille-t-il déjà avec des structures de l'économie sociale ?",
        options="Oui, régulièrement\nDe temps en temps\nPas encore",
        results="after_close",
    )
    closed = poll_or_none(closed.id)
    choices = [option.id for option in closed.options]
    for n, username in enumerate(["camille-scop", "sophie.mutuelle", "marc.cc3v", "fatou-regie"]):
        services.vote(users[username], closed, [choices[n % len(choices)]])
    services.close_poll(users["yannick-ul"], closed)

    cite = {number: f"[[post:{replies[number - 1].id}]]" for number in range(1, len(replies) + 1)}
    moderator = users["nadia.mediation"]
    draft = synthesis.save(
        moderator,
        coops,
        consensus=(
            f"- La SCIC convient aux projets portés avec la collectivité, à condition de la "
            f"penser comme une coopérative et non comme un service municipal déguisé {cite[1]}\n"
            f"- Associer salarié·es et usager·es dès l'écriture des statuts {cite[1]} {cite[4]}\n"
            f"- Ne jamais dépendre d'une seule source de financement {cite[6]}"
        ),
        disagreements=(
            f"- Le risque que la collectivité se serve de la coopérative pour faire des "
            f"économies sur le service public {cite[7]} {cite[8]}\n"
            f"- Le poids de la commune dans les collèges de vote {cite[4]} {cite[5]}"
        ),
        questions=(
            f"- Quelle convention collective pour les salarié·es de la SCIC ? {cite[9]} {cite[10]}\n"
            f"- Combien de temps pour ouvrir un centre de santé en SCIC ? {cite[13]}"
        ),
        proposals=(
            f"- Commencer par un projet nouveau plutôt que par la reprise d'un service "
            f"existant {cite[9]}\n"
            f"- Visiter la SCIC solaire de Montreuil et le centre de santé de la Drôme "
            f"{cite[11]} {cite[12]} {cite[14]}"
        ),
    )
    for username in ("camille-scop", "lucie-tierslieu", "marc.cc3v"):
        synthesis.approve(users[username], draft)
    synthesis.publish(moderator, draft)
