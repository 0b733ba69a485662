"""The directory's demo: organisations, offers and needs that match, requests with outcomes."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from forum.directory.models import ContactRequest, Offer, Organisation
from forum.extensions import db


def test_demo_directory(app, client, runner):
    result = runner.invoke(args=["forum", "seed-demo"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        organisations = db.session.execute(select(Organisation)).scalars().all()
        assert len(organisations) == 15
        assert {o.family for o in organisations} == {"ess", "syndical", "territoires"}
        assert len({o.departement for o in organisations}) >= 8
        assert db.session.execute(select(func.count(Offer.id))).scalar_one() == 14
        requests = db.session.execute(select(ContactRequest).order_by(ContactRequest.id)).scalars()
        assert [(r.status, r.mediation, r.outcome) for r in requests] == [
            ("accepted", False, None),
            ("accepted", True, "accord"),
        ]
        need = db.session.execute(
            select(Offer).where(Offer.title.like("Séjours de vacances solidaires%"))
        ).scalar_one()
        regie = db.session.execute(
            select(Organisation.slug).where(Organisation.kind == "regie_quartier")
        ).scalar_one()
    # The CSE of Seine-Saint-Denis: the cooperative of social tourism of the same région first.
    page = client.get(f"/offers/{need.id}/matches").get_data(as_text=True)
    first = re.search(
        r'id="match-\d+">.*?class="thread-title"[^>]*>([^<]+)<.*?class="match-reasons">([^<]+)<',
        page,
        re.S,
    )
    assert first.group(1) == "Séjours familles en villages vacances"
    assert "même région · même thème · même catégorie" in first.group(2)
    counts = client.get(f"/organisations/{regie}").get_data(as_text=True)
    assert "1 reçue · 1 acceptée · 1 avec médiation · accord : 1" in counts
    found = client.get("/directory/?q=tourisme").get_data(as_text=True)
    assert "Vacances Ensemble, coopérative de tourisme social" in found
    assert "Mutuelle Entraide Santé" not in found
