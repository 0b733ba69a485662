"""A benchmark directory written in bulk: organisations, their representatives, offers and
needs, and their search index rows — the rows the services would leave, in Core batches.

``flask forum bench-data --posts N --organisations 10000 --offers 50000`` calls
:func:`write_directory` after the forum's own data set, with its accounts as members.
"""

from __future__ import annotations

import random
from datetime import timedelta

from sqlalchemy import func, insert, select

from forum import content
from forum.accounts.models import User
from forum.db import utcnow, write_intent
from forum.directory import territories
from forum.directory.models import (
    CATEGORY_LABELS,
    KIND_LABELS,
    SCOPE_LABELS,
    Membership,
    Offer,
    Organisation,
)
from forum.discussions.models import Theme
from forum.extensions import db
from forum.search.models import OFFER, ORGANISATION, SearchEntry
from forum.search.services import _text as index_text
from forum.search.text import normalise

BATCH = 5_000
_FAMILY_OF = {
    **dict.fromkeys(
        (
            "cooperative",
            "scic",
            "scop",
            "mutuelle_sante",
            "mutuelle_assurance",
            "fondation",
            "regie_quartier",
        ),
        "ess",
    ),
    **dict.fromkeys(("cse", "syndicat", "union_locale", "federation", "confederation"), "syndical"),
    **dict.fromkeys(
        ("commune", "intercommunalite", "departement", "region", "association_habitants"),
        "territoires",
    ),
    "association": "ess",
    "autre": "ess",
}
_NAMES = ("Solidarité", "Entraide", "Avenir", "Horizon", "Partage", "Les Communs", "Le Lien")
_TOPICS = (
    "séjours de vacances",
    "ateliers santé",
    "formation des élu·es",
    "salle de réunion",
    "panneaux solaires",
    "jardins partagés",
    "mobilité solidaire",
    "repas collectifs",
)
_BODY = "Nous **proposons** ou **cherchons** : {topic}. Contactez-nous par le forum."


def write_directory(organisations: int, offers: int, seed: int = 7) -> tuple[int, int]:
    """Write ``organisations`` organisations and ``offers`` offers and needs; returns both counts."""
    rng = random.Random(seed)  # noqa: S311 - benchmark data, not secrets
    now = utcnow()
    deps = list(territories.departements().values())
    kinds = list(KIND_LABELS)
    categories, scopes = list(CATEGORY_LABELS), list(SCOPE_LABELS)
    with write_intent():
        users = list(db.session.execute(select(User.id).order_by(User.id)).scalars())
        themes = [*db.session.execute(select(Theme.id)).scalars(), None]
        first = (db.session.execute(select(func.max(Organisation.id))).scalar() or 0) + 1
        bodies = {t: content.render_markdown(_BODY.format(topic=t)) for t in _TOPICS}
        org_rows, members, index = [], [], []
        for n in range(organisations):
            dep = rng.choice(deps)
            kind = rng.choice(kinds)
            name = f"{KIND_LABELS[kind]} {rng.choice(_NAMES)} {dep.name} {n}"
            org_rows.append(
                {
                    "id": first + n,
                    "name": name,
                    "slug": f"bench-{first + n}",
                    "family": _FAMILY_OF[kind],
                    "kind": kind,
                    "region": dep.region,
                    "departement": dep.code,
                    "commune": "",
                    "description_source": "",
                    "description_html": "",
                    "render_version": content.RENDER_VERSION,
                    "website": "",
                    "member_count": 1,
                    "created_at": now - timedelta(days=rng.uniform(0, 700)),
                }
            )
            members.append(
                {
                    "organisation_id": first + n,
                    "user_id": users[n % len(users)],
                    "role": "representative",
                    "message": "",
                    "created_at": now,
                }
            )
            index.append(
                {"kind": ORGANISATION, "object_id": first + n, "title": normalise(name), "body": ""}
            )
        for table, rows in ((Organisation, org_rows), (Membership, members), (SearchEntry, index)):
            for start in range(0, len(rows), BATCH):
                db.session.execute(insert(table), rows[start : start + BATCH])
        db.session.commit()
        first_offer = (db.session.execute(select(func.max(Offer.id))).scalar() or 0) + 1
        offer_rows, index = [], []
        for n in range(offers):
            topic = rng.choice(_TOPICS)
            kind = "need" if n % 3 == 0 else "offer"
            title = f"{'Besoin' if kind == 'need' else 'Offre'} : {topic} ({n})"
            offer_rows.append(
                {
                    "id": first_offer + n,
                    "organisation_id": first + rng.randrange(organisations),
                    "author_id": None,
                    "kind": kind,
                    "title": title,
                    "body_source": _BODY.format(topic=topic),
                    "body_html": bodies[topic],
                    "render_version": content.RENDER_VERSION,
                    "category": rng.choice(categories),
                    "theme_id": rng.choice(themes),
                    "scope": rng.choice(scopes),
                    "expires_at": (now + timedelta(days=rng.randint(-30, 300))).date(),
                    "status": "open",
                    "created_at": now - timedelta(days=rng.uniform(0, 300)),
                }
            )
            index.append(
                {
                    "kind": OFFER,
                    "object_id": first_offer + n,
                    "title": normalise(title),
                    "body": index_text(bodies[topic]),
                }
            )
        for table, rows in ((Offer, offer_rows), (SearchEntry, index)):
            for start in range(0, len(rows), BATCH):
                db.session.execute(insert(table), rows[start : start + BATCH])
        if db.session.get_bind().dialect.name == "postgresql":
            for table in ("organisations", "offers"):
                db.session.execute(
                    db.text(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
                        f"(SELECT max(id) FROM {table}))"
                    )
                )
        db.session.commit()
    return organisations, offers
