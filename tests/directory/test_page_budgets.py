"""Every directory page costs a fixed number of SQL statements, whatever the directory holds.

Each page is read on a small directory, then after many more organisations, offers,
needs, members, threads and requests were added: the counts must be the pinned ones
both times. A page view writes nothing.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from forum.accounts.models import User
from forum.db import utcnow
from forum.directory import contacts
from forum.directory.models import ContactRequest, Offer, Organisation
from forum.extensions import db
from tests.directory.factories import add_member, make_offer, make_organisation
from tests.factories import make_thread, make_user, search_candidate_reads

#: (viewer, URL pattern) -> statements. A logged-in viewer adds their user row, and their
#: memberships where a rule asks (read once per request).
BUDGETS = {
    # The themes (filter choices), the count, the page, open offers and needs per organisation.
    ("anonymous", "/directory/"): 4,
    ("anonymous", "/directory/?q=energie&region=11"): 4,
    ("anonymous", "/directory/?besoins=1&theme=urbain"): 4,
    ("anonymous", "/offers/"): 3,  # the themes, the count, the page
    ("anonymous", "/offers/?type=need&departement=93&q=sejours"): 3,
    # The organisation, members, offers and needs, members' threads, counts of requests.
    ("anonymous", "/organisations/{org}"): 5,
    ("anonymous", "/offers/{need}"): 1,
    ("anonymous", "/offers/{need}/matches"): 2,  # the need, the pool of candidates
    ("rep", "/directory/"): 5,
    ("rep", "/organisations/{org}"): 6,
    ("rep", "/offers/{need}"): 4,  # + whether they follow it, their memberships
    ("rep", "/offers/{need}/matches"): 4,
    ("rep", "/contacts/{contact}"): 3,
    ("mediator", "/mediation/"): 5,  # + whether a mediator; waiting; taken
    ("admin", "/admin/mise-en-relation"): 2,
}
#: The pages above that search text.
TEXT_SEARCHES = [page for page in BUDGETS if "q=" in page[1]]
WRITE_VERBS = {"INSERT", "UPDATE", "DELETE"}


def _grow(app, owner, rounds: int, ids: dict) -> None:
    """More organisations, offers and needs, members, threads and requests."""
    for n in range(rounds):
        org = make_organisation(
            app, owner, f"Coopérative énergie n°{n}", departement="93" if n % 2 else "75"
        )
        add_member(app, org, make_user(app))
        make_offer(
            app, owner, org, f"Séjours solidaires n°{n}", category="vacances", scope="national"
        )
        make_offer(
            app, owner, org, f"Besoin de salle n°{n}", kind="need", category="lieu", theme="urbain"
        )
        make_thread(app, owner, "urbain", f"Un fil de la coopérative n°{n}", f"Texte {n}.")
    with app.app_context():
        ours = db.session.get(Organisation, ids["org"])
        asked = select(ContactRequest.to_organisation_id)
        # An older account: the daily pace of new accounts does not apply.
        db.session.execute(
            db.update(User)
            .where(User.id == ids["owner"])
            .values(created_at=utcnow() - timedelta(days=30))
        )
        for org_id in db.session.execute(
            select(Organisation.id)
            .where(Organisation.id != ours.id, Organisation.id.not_in(asked))
            .limit(rounds)
        ).scalars():
            request = contacts.request_contact(
                db.session.get(User, ids["owner"]),
                db.session.get(Organisation, org_id),
                "Bonjour, parlons de vos séjours.",
                mediation=True,
                from_organisation=ours.slug,
            )
            ids["contact"] = request.id
        db.session.commit()


def _counts(app, client, auth, query_counter, ids) -> dict:
    counts = {}
    logged = None
    for (viewer, pattern), _budget in BUDGETS.items():
        if viewer != logged:
            if logged:
                auth.logout()
            if viewer != "anonymous":
                auth.login(ids[viewer])
            logged = viewer
        url = pattern.format(**ids)
        client.get(url)
        with query_counter() as counter:
            response = client.get(url)
        assert response.status_code == 200, url
        writes = [s for s in counter.statements if s.lstrip().split(None, 1)[0] in WRITE_VERBS]
        assert writes == [], (url, writes)
        counts[(viewer, pattern)] = counter.count
    auth.logout()
    return counts


def test_directory_pages_cost_pinned_queries_whatever_the_directory_holds(
    app, client, auth, query_counter
):
    rep = make_user(app, "representante")
    make_user(app, "mediatrice", role="moderator")
    make_user(app, "admin", role="admin")
    app.test_cli_runner().invoke(args=["forum", "set-mediator", "mediatrice"])
    org = make_organisation(app, rep, "CSE Énergie Pleyel", kind="cse", family="syndical")
    need = make_offer(
        app, rep, org, "Séjours de vacances solidaires", kind="need", category="vacances"
    )
    ids = {
        "org": org.id,
        "owner": rep.id,
        "need": need.id,
        "rep": "representante",
        "mediator": "mediatrice",
        "admin": "admin",
    }
    _grow(app, rep, 2, ids)
    with app.app_context():
        ids["org"] = db.session.get(Organisation, org.id).slug
    small = _counts(app, client, auth, query_counter, ids)
    with app.app_context():
        ids["org"] = org.id
    _grow(app, rep, 6, ids)
    with app.app_context():
        ids["org"] = db.session.get(Organisation, org.id).slug
        assert db.session.execute(select(db.func.count(Offer.id))).scalar_one() == 17
    large = _counts(app, client, auth, query_counter, ids)
    budgets = dict(BUDGETS)
    for page in TEXT_SEARCHES:
        budgets[page] += search_candidate_reads(app)
    assert small == large == budgets
