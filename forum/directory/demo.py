"""Demo content of the directory: organisations of the demo members, offers and needs
that match in instructive ways, one accepted request and one mediated to an outcome.

Called once by :func:`forum.demo.seed` with the demo members; everything goes through
the services, so rendering, search, counters and notifications are real.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from forum.accounts.models import User
from forum.directory import contacts, services
from forum.directory.models import ContactRequest, Offer, Organisation
from forum.extensions import db

#: The coordination of the network enters organisations that have no demo member yet.
COORDINATION = "coordination-rs"
MEDIATOR = "nadia.mediation"

#: key, representative, name, family, kind, région, département, commune, description
ORGANISATIONS = [
    ("transagglo", "karim.cse", "CSE de TransAgglo", "syndical", "cse", "32", "59", "Lille",
     "Le comité social et économique des **1 200 salarié·es** du réseau de bus et de tramway "
     "de l'agglomération : activités sociales et culturelles, santé au travail, formation des élu·es."),
    ("ul-saint-nazaire", "yannick-ul", "Union locale syndicale de Saint-Nazaire", "syndical",
     "union_locale", "52", "44", "Saint-Nazaire",
     "Une union locale interprofessionnelle : permanences juridiques, formation des "
     "militant·es, lien avec les CSE des chantiers et de la sous-traitance."),
    ("bois-compagnie", "camille-scop", "SCOP Bois & Compagnie", "ess", "scop", "84", "26", "Die",
     "Menuiserie coopérative de 14 associé·es : mobilier en bois local, chantiers "
     "participatifs, accueil d'apprenti·es."),
    ("montreuil", "elue-montreuil", "Ville de Montreuil", "territoires", "commune", "11", "93",
     "Montreuil", "La délégation à la démocratie locale : budget participatif, conseils de "
     "quartier, soutien aux initiatives d'habitant·es."),
    ("entraide-sante", "sophie.mutuelle", "Mutuelle Entraide Santé", "ess", "mutuelle_sante",
     "84", "63", "Clermont-Ferrand", "Mutuelle santé à but non lucratif ; son service "
     "prévention intervient dans les entreprises et auprès des CSE."),
    ("trois-vallees", "marc.cc3v", "Communauté de communes des Trois Vallées", "territoires",
     "intercommunalite", "84", "63", "Ambert", "Vingt-deux communes rurales du Livradois : "
     "développement local, mobilité, transition énergétique des bâtiments publics."),
    ("regie-villette", "fatou-regie", "Régie de quartier Villette-Quatre-Chemins", "ess",
     "regie_quartier", "11", "93", "Aubervilliers", "Entretien des espaces communs, "
     "médiation de proximité et **emplois d'insertion** pour les habitant·es du quartier."),
    ("grand-chene", "jb.habitat", "Coopérative d'habitants Le Grand Chêne", "ess",
     "cooperative", "84", "69", "Villeurbanne", "Vingt logements en propriété collective, "
     "une salle commune et un savoir-faire d'habitat participatif à partager."),
    ("fabrique-bocage", "lucie-tierslieu", "La Fabrique du Bocage", "ess", "scic", "52", "53",
     "Mayenne", "Tiers-lieu rural en SCIC : atelier partagé, espace de travail, café associatif "
     "et accompagnement de projets."),
    ("tilleuls", MEDIATOR, "Association des habitant·es des Tilleuls", "territoires",
     "association_habitants", "84", "69", "Lyon", "Les habitant·es d'une cité du 8e "
     "arrondissement : jardins partagés, fêtes de quartier, lien avec le bailleur."),
    ("bougeons-en-brie", "theo.mobilite", "Collectif Bougeons en Brie", "territoires",
     "association", "11", "77", "Coulommiers", "Usager·es des transports du nord de la "
     "Seine-et-Marne : covoiturage solidaire, défense des lignes de car."),
    ("vacances-ensemble", COORDINATION, "Vacances Ensemble, coopérative de tourisme social",
     "ess", "cooperative", "11", "75", "Paris", "Coopérative de tourisme social : villages "
     "vacances, séjours familles et colonies, tarifs selon le quotient familial."),
    ("energies-citoyennes", COORDINATION, "SCIC Énergies citoyennes d'Île-de-France", "ess",
     "scic", "11", "93", "Saint-Denis", "Des habitant·es, des collectivités et des "
     "entreprises produisent ensemble une énergie **renouvelable et locale**."),
    ("fondation-lien", COORDINATION, "Fondation pour le lien social", "ess", "fondation",
     "11", "75", "Paris", "Fondation abritante qui finance les projets portés par des "
     "habitant·es et des associations de quartier."),
    ("cse-plaine-commune", COORDINATION, "CSE Logistique Plaine Commune", "syndical", "cse",
     "11", "93", "Saint-Denis", "Le CSE d'une plateforme logistique de 800 salarié·es, "
     "dont beaucoup de familles monoparentales."),
]  # fmt: skip

#: organisation key, kind, title, body, category, theme, scope, days open, age in days
OFFERS = [
    ("cse-plaine-commune", "need", "Séjours de vacances solidaires pour les familles des salarié·es",
     "Nous cherchons des séjours d'une semaine cet été pour **120 familles**, avec un tarif "
     "selon le quotient familial et des départs en car depuis Saint-Denis.",
     "vacances", "developpement-local", "regional", 120, 3),
    ("transagglo", "need", "Séjours de vacances pour les enfants des salarié·es",
     "Colonies de 10 à 15 jours pour 60 enfants de 6 à 14 ans, en juillet.",
     "vacances", None, "national", 90, 12),
    ("vacances-ensemble", "offer", "Séjours familles en villages vacances",
     "Douze villages vacances en France, pension complète ou demi-pension, tarifs négociés "
     "pour les CSE et les comités d'œuvres sociales.",
     "vacances", "developpement-local", "national", 200, 20),
    ("entraide-sante", "offer", "Ateliers prévention santé au travail pour les CSE",
     "Troubles musculo-squelettiques, horaires décalés, sommeil : des ateliers de deux heures "
     "animés par nos préventeur·rices, sans frais pour les CSE partenaires.",
     "sante", "services-publics", "national", 180, 40),
    ("transagglo", "need", "Prévention des troubles musculo-squelettiques chez les conducteur·rices",
     "Nos conducteur·rices de bus souffrent du dos : nous cherchons un partenaire pour des "
     "ateliers et un diagnostic des postes.", "sante", "services-publics", "regional", 100, 8),
    ("montreuil", "need", "Rénover les pieds d'immeubles avec les habitant·es",
     "Trois cités du Bas-Montreuil : nous cherchons une structure d'insertion pour entretenir "
     "et embellir les espaces communs avec les habitant·es.",
     "service", "urbain", "local", 150, 15),
    ("regie-villette", "offer", "Entretien et médiation en pied d'immeuble",
     "Nos équipes en insertion entretiennent les parties communes et assurent une présence "
     "de médiation, en lien avec les amicales de locataires.",
     "service", "urbain", "departemental", 200, 60),
    ("trois-vallees", "need", "Panneaux solaires citoyens sur nos écoles et gymnases",
     "Nous voulons équiper six bâtiments communaux avec un financement participatif des "
     "habitant·es.", "expertise", "developpement-local", "regional", 160, 25),
    ("energies-citoyennes", "offer", "Accompagnement de projets solaires citoyens",
     "Étude, montage juridique (SCIC, SAS citoyenne), financement participatif : nous "
     "accompagnons collectivités et habitant·es.", "expertise", "developpement-local",
     "national", 300, 5),
    ("ul-saint-nazaire", "need", "Formation des élu·es CSE aux activités sociales solidaires",
     "Une journée pour montrer aux élu·es des CSE de la navale ce que l'économie sociale "
     "peut leur proposer.", "formation", "developpement-local", "regional", 120, 30),
    ("fabrique-bocage", "offer", "Salle et espace de travail partagé en Mayenne",
     "Une salle de 40 places et six postes de travail, à prix libre pour les associations "
     "et les syndicats.", "lieu", None, "departemental", 365, 70),
    ("bois-compagnie", "offer", "Chantiers participatifs de mobilier urbain",
     "Nous fabriquons avec les habitant·es bancs, bacs potagers et abris : formation aux "
     "gestes de la menuiserie comprise.", "formation", "urbain", "national", 240, 45),
    ("fondation-lien", "offer", "Financement de projets portés par des habitant·es",
     "Jusqu'à 5 000 € pour un projet collectif de quartier, avec un accompagnement.",
     "financement", "urbain", "national", 300, 10),
    ("tilleuls", "need", "Bancs et bacs potagers pour le jardin partagé",
     "Nous cherchons à construire nous-mêmes du mobilier pour le jardin de la cité.",
     "formation", "urbain", "local", 90, 6),
]  # fmt: skip


def seed(users: dict[str, User], now) -> None:
    """Create the demo organisations, offers, needs and requests (the caller's transaction)."""
    organisations: dict[str, Organisation] = {}
    for key, rep, name, family, kind, region, departement, commune, text in ORGANISATIONS:
        organisations[key] = services.create_organisation(
            users[rep], name, family, kind, region, departement, commune, text
        )
    offers: dict[str, Offer] = {}
    for key, kind, title, body, category, theme, scope, days, age in OFFERS:
        organisation = organisations[key]
        rep = db.session.get(User, organisation.created_by_id)
        offer = services.create_offer(
            rep, organisation, kind, title, body, category, theme, scope,
            (now + timedelta(days=days)).date(),
        )  # fmt: skip
        db.session.execute(
            update(Offer).where(Offer.id == offer.id).values(created_at=now - timedelta(days=age))
        )
        offers[title] = offer
    db.session.commit()

    contacts.set_mediator(None, users[MEDIATOR], True)
    coordination = users[COORDINATION]
    services.verify(coordination, organisations["vacances-ensemble"])
    services.verify(coordination, organisations["regie-villette"])

    # The CSE of TransAgglo asks Vacances Ensemble for its family stays; accepted.
    accepted = contacts.request_contact(
        users["karim.cse"],
        None,
        "Bonjour, nous cherchons des colonies pour 60 enfants en juillet : pouvez-vous nous "
        "proposer des dates et un tarif selon le quotient familial ?",
        offer=offers["Séjours familles en villages vacances"],
    )
    contacts.accept(
        coordination,
        accepted,
        "Bonjour Karim, avec plaisir : nous avons des places en Ardèche et en Bretagne.",
    )
    # Montreuil asks the régie de quartier, with mediation; closed with an agreement.
    mediated = contacts.request_contact(
        users["elue-montreuil"],
        None,
        "Nous aimerions confier l'entretien de trois pieds d'immeubles à votre régie : "
        "pouvons-nous en parler avec un·e médiateur·rice du réseau ?",
        offer=offers["Entretien et médiation en pied d'immeuble"],
        mediation=True,
    )
    contacts.accept(users["fatou-regie"], mediated, "Oui, parlons-en ensemble.")
    contacts.take(users[MEDIATOR], mediated)
    contacts.close(
        users[MEDIATOR],
        mediated,
        "accord",
        "Une convention d'un an est signée : six salarié·es en insertion, un comité de suivi "
        "avec les amicales de locataires tous les trimestres.",
    )
    for request in (accepted, mediated):
        db.session.execute(
            update(ContactRequest)
            .where(ContactRequest.id == request.id)
            .values(created_at=now - timedelta(days=9))
        )
    db.session.commit()
