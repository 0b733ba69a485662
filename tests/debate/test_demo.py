"""seed-demo gives the debate its demo content, and the pages show it."""

from __future__ import annotations

from sqlalchemy import func, select

from forum.debate.demo import COOPERATIVES
from forum.debate.models import Poll, Reaction, Synthesis
from forum.discussions.models import Post, Thread
from forum.extensions import db


def test_seed_demo_loads_positions_reactions_polls_and_a_synthesis(app, client, runner):
    result = runner.invoke(args=["forum", "seed-demo"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        coops = db.session.execute(select(Thread).where(Thread.title == COOPERATIVES)).scalar_one()
        positioned = db.session.execute(
            select(func.count()).where(Post.position.is_not(None))
        ).scalar_one()
        assert positioned > 20
        assert db.session.execute(select(func.count()).select_from(Reaction)).scalar_one() >= 10
        polls = db.session.execute(select(Poll)).scalars().all()
        assert sorted(poll.is_closed() for poll in polls) == [False, True]
        found = db.session.execute(select(Synthesis)).scalar_one()
        assert found.thread_id == coops.id and found.is_published
        assert found.consensus.count("[[post:") >= 3
    page = client.get(f"/threads/{coops.id}").get_data(as_text=True)
    assert 'id="synthese"' in page and "citation-excerpt" in page
    assert "badge position position-contre" in page and "who-reacted" in page
    assert "Carte du débat" in client.get(f"/threads/{coops.id}/map").get_data(as_text=True)
    for poll in polls:
        assert client.get(f"/polls/{poll.id}").status_code == 200
    again = runner.invoke(args=["forum", "seed-demo"])  # loaded once
    assert again.exit_code == 0
    with app.app_context():
        assert db.session.execute(select(func.count()).select_from(Poll)).scalar_one() == 2
