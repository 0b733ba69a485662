"""Who may do what in the directory: the whole matrix of ``can``, then refusals over HTTP.

Viewers: the anonymous visitor, a member of no organisation, a member of A, a
representative of A, a representative of B, a mediator, a moderator and an admin.
Objects: organisations A and B, an open offer of A, and three contact requests to A asked
by B's representative (for B and two other organisations they represent): plain, with
mediation asked, and taken by the mediator.
"""

from __future__ import annotations

from types import SimpleNamespace

from sqlalchemy.orm import joinedload

from forum.accounts.models import AnonymousUser, User
from forum.directory import contacts
from forum.directory.models import ContactRequest, Offer, Organisation
from forum.extensions import db
from forum.permissions import Action, can
from tests.directory.factories import add_member, make_offer, make_organisation
from tests.factories import make_user

VIEWERS = ("anonymous", "member", "member_a", "rep_a", "rep_b", "mediator", "moderator", "admin")
LOGGED_IN = set(VIEWERS) - {"anonymous"}
GLOBAL_MODERATORS = {"mediator", "moderator", "admin"}

#: (action, object, viewers allowed)
MATRIX = [
    (Action.ORGANISATION_CREATE, None, LOGGED_IN),
    (Action.ORGANISATION_EDIT, "a", {"rep_a"} | GLOBAL_MODERATORS),
    (Action.ORGANISATION_JOIN, "a", {"member", "rep_b"} | GLOBAL_MODERATORS),
    (Action.ORGANISATION_MEMBERS, "a", {"rep_a"}),
    (Action.ORGANISATION_VERIFY, "a", GLOBAL_MODERATORS),
    (Action.ORGANISATION_MERGE, "a", GLOBAL_MODERATORS),
    (Action.ORGANISATION_CONTACT, "a", {"rep_b"}),
    # rep_b also represents the two other organisations of the requests: they may ask B.
    (Action.ORGANISATION_CONTACT, "b", {"member_a", "rep_a", "rep_b"}),
    (Action.OFFER_CREATE, "a", {"rep_a"}),
    (Action.OFFER_EDIT, "offer", {"rep_a"} | GLOBAL_MODERATORS),
    (Action.OFFER_CLOSE, "offer", {"rep_a"} | GLOBAL_MODERATORS),
    (Action.OFFER_FOLLOW, "offer", {"rep_a"}),
    (Action.OFFER_CONTACT, "offer", {"rep_b"}),
    (Action.CONTACT_VIEW, "plain", {"rep_a", "rep_b"}),
    (Action.CONTACT_VIEW, "mediated", {"rep_a", "rep_b", "mediator"}),
    (Action.CONTACT_VIEW, "taken", {"rep_a", "rep_b", "mediator"}),
    (Action.CONTACT_ANSWER, "plain", {"rep_a"}),
    (Action.CONTACT_ASK_MEDIATION, "plain", {"rep_a", "rep_b"}),
    (Action.CONTACT_ASK_MEDIATION, "mediated", set()),
    (Action.CONTACT_TAKE, "plain", set()),
    (Action.CONTACT_TAKE, "mediated", {"mediator"}),
    (Action.CONTACT_TAKE, "taken", set()),
    (Action.CONTACT_CLOSE, "mediated", set()),
    (Action.CONTACT_CLOSE, "taken", {"mediator"}),
    (Action.MEDIATION_QUEUE, None, {"mediator"}),
    (Action.MEDIATOR_SET, None, {"admin"}),
    (Action.CONTACT_REPORT, None, {"admin"}),
]


def build_world(app, runner) -> SimpleNamespace:
    users = {
        "member": make_user(app, "membre"),
        "member_a": make_user(app, "membre_a"),
        "rep_a": make_user(app, "rep_a"),
        "rep_b": make_user(app, "rep_b"),
        "mediator": make_user(app, "mediateur", role="moderator"),
        "moderator": make_user(app, "modo", role="moderator"),
        "admin": make_user(app, "admin", role="admin"),
    }
    runner.invoke(args=["forum", "set-mediator", "mediateur"])
    a = make_organisation(app, users["rep_a"], "Organisation A", kind="cse", family="syndical")
    b = make_organisation(app, users["rep_b"], "Organisation B", kind="cooperative")
    add_member(app, a, users["member_a"])
    offer = make_offer(app, users["rep_a"], a, "Un besoin de A", kind="need")
    sources = {"plain": b}
    for name in ("mediated", "taken"):
        sources[name] = make_organisation(app, users["rep_b"], f"Organisation B {name}")
    requests = {}
    with app.app_context():
        rep_b = db.session.get(User, users["rep_b"].id)
        for name, mediation in (("plain", False), ("mediated", True), ("taken", True)):
            request = contacts.request_contact(
                rep_b,
                db.session.get(Organisation, a.id),
                f"Une demande {name}, assez longue.",
                mediation=mediation,
                from_organisation=sources[name].slug,
            )
            requests[name] = request.id
        contacts.take(
            db.session.get(User, users["mediator"].id),
            db.session.get(ContactRequest, requests["taken"]),
        )
    return SimpleNamespace(users=users, a=a.id, b=b.id, offer=offer.id, requests=requests)


def _load(world, key):
    if key is None:
        return None
    if key in ("a", "b"):
        return db.session.get(Organisation, getattr(world, key))
    if key == "offer":
        return db.session.execute(
            db.select(Offer).where(Offer.id == world.offer).options(joinedload(Offer.organisation))
        ).scalar_one()
    return db.session.get(ContactRequest, world.requests[key])


def test_the_permission_matrix(app, runner):
    world = build_world(app, runner)
    failures = []
    with app.app_context():
        for viewer in VIEWERS:
            user = (
                AnonymousUser()
                if viewer == "anonymous"
                else db.session.get(User, world.users[viewer].id)
            )
            for action, key, allowed in MATRIX:
                got = can(user, action, _load(world, key))
                if got != (viewer in allowed):
                    failures.append((viewer, action.value, key, got))
            db.session.expire_all()
    assert failures == []


def test_a_mediator_sees_only_the_requests_they_took(app, runner, client, auth):
    world = build_world(app, runner)
    make_user(app, "autre_mediateur", role="moderator")
    runner.invoke(args=["forum", "set-mediator", "autre_mediateur"])
    auth.login("autre_mediateur")
    assert client.get(f"/contacts/{world.requests['taken']}").status_code == 403
    assert client.get(f"/contacts/{world.requests['plain']}").status_code == 403
    assert client.get(f"/contacts/{world.requests['mediated']}").status_code == 200
    auth.logout()
    auth.login("mediateur")
    page = client.get(f"/contacts/{world.requests['taken']}").get_data(as_text=True)
    assert "Clore la médiation" in page and "Accepter" not in page


PAGES = [
    ("anonymous", "/organisations/new", 302),
    ("anonymous", "/mediation/", 302),
    ("member", "/mediation/", 403),
    ("moderator", "/mediation/", 403),
    ("mediator", "/mediation/", 200),
    ("member", "/admin/mise-en-relation", 403),
    ("admin", "/admin/mise-en-relation", 200),
    ("admin", "/admin/mediateurs", 200),
    ("mediator", "/admin/mediateurs", 403),
    ("member_a", "/organisations/{a}/offers/new", 403),
    ("rep_a", "/organisations/{a}/offers/new", 200),
    ("rep_b", "/organisations/{a}/edit", 403),
    ("moderator", "/organisations/{a}/edit", 200),
    ("member", "/offers/{offer}/contact", 403),
    ("rep_b", "/offers/{offer}/contact", 200),
    ("rep_a", "/offers/{offer}/edit", 200),
    ("member_a", "/offers/{offer}/edit", 403),
    ("admin", "/contacts/{plain}", 403),
    ("moderator", "/contacts/{plain}", 403),
    ("member_a", "/contacts/{plain}", 403),
    ("rep_a", "/contacts/{plain}", 200),
    ("member", "/organisations/{a}/merge", 403),
]


def test_pages_refuse_who_may_not(app, runner, client, auth):
    world = build_world(app, runner)
    with app.app_context():
        slug = db.session.get(Organisation, world.a).slug
    got = []
    for viewer, url, _status in PAGES:
        if viewer != "anonymous":
            auth.login(world.users[viewer].username)
        url = url.format(a=slug, offer=world.offer, plain=world.requests["plain"])
        got.append((viewer, url, client.get(url).status_code))
        if viewer != "anonymous":
            auth.logout()
    assert got == [
        (viewer, url.format(a=slug, offer=world.offer, plain=world.requests["plain"]), status)
        for viewer, url, status in PAGES
    ]


def test_pages_show_only_the_buttons_allowed(app, runner, client, auth):
    world = build_world(app, runner)
    with app.app_context():
        slug = db.session.get(Organisation, world.a).slug
    page = client.get(f"/organisations/{slug}").get_data(as_text=True)
    for label in (
        "Demander une mise en relation",
        "Publier une offre",
        "Modifier",
        "Vérifier",
        "Demander à rejoindre",
    ):
        assert label not in page
    auth.login("rep_b")
    page = client.get(f"/organisations/{slug}").get_data(as_text=True)
    assert "Demander une mise en relation" in page and "Demander à rejoindre" in page
    assert "Publier une offre" not in page and "Vérifier l" not in page
    auth.logout()
    auth.login("rep_a")
    page = client.get(f"/organisations/{slug}").get_data(as_text=True)
    assert "Publier une offre" in page and "Modifier l" in page
    assert "Demander une mise en relation" not in page
