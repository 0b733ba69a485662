"""The directory's benchmark data: written in bulk, listed and searched like real rows."""

from __future__ import annotations

from sqlalchemy import func, select

from forum.directory.models import Membership, Offer, Organisation
from forum.extensions import db
from forum.search.models import SearchEntry


def test_bench_data_builds_a_directory(app, client, runner):
    result = runner.invoke(
        args=["forum", "bench-data", "--posts", "60", "--organisations", "40", "--offers", "200"]
    )
    assert result.exit_code == 0, result.output
    assert "40 organisations, 200 offres et besoins" in result.output
    with app.app_context():
        assert db.session.execute(select(func.count(Organisation.id))).scalar_one() == 40
        assert db.session.execute(select(func.count(Membership.id))).scalar_one() == 40
        assert db.session.execute(select(func.count(Offer.id))).scalar_one() == 200
        kinds = dict(
            db.session.execute(
                select(SearchEntry.kind, func.count()).group_by(SearchEntry.kind)
            ).all()
        )
        assert (kinds["org"], kinds["offer"]) == (40, 200)
        need = (
            db.session.execute(
                select(Offer.id).where(Offer.kind == "need", Offer.expires_at > func.current_date())
            )
            .scalars()
            .first()
        )
    assert "40 organisations" in client.get("/directory/").get_data(as_text=True)
    assert client.get("/offers/?q=vacances").status_code == 200
    assert client.get(f"/offers/{need}/matches").status_code == 200
