"""Who may export or erase which account: the matrix of ``can`` for the data actions."""

from __future__ import annotations

from datetime import timedelta

import pytest

from forum.accounts.models import AnonymousUser, User
from forum.db import utcnow
from forum.extensions import db
from forum.permissions import Action, can
from tests.factories import make_user

VIEWERS = ("anonymous", "member", "suspended", "moderator", "admin")
T, F = True, False

#: (action, target) -> what each viewer of VIEWERS may do. "self": the viewer's own account.
MATRIX = {
    ("account:export", "self"): (F, T, T, T, T),
    ("account:export", "other"): (F, F, F, F, F),
    ("account:erase", "self"): (F, T, T, T, T),
    ("account:erase", "other"): (F, F, F, F, F),
    ("user:erase", "self"): (F, F, F, F, F),
    ("user:erase", "other"): (F, F, F, F, T),
    ("user:erase", "admin"): (F, F, F, F, F),
}


@pytest.mark.parametrize(("action", "target"), list(MATRIX))
def test_data_permission_matrix(app, action, target):
    ids = {
        "member": make_user(app, "membre").id,
        "suspended": make_user(app, "suspendue").id,
        "moderator": make_user(app, "modo", role="moderator").id,
        "admin": make_user(app, "admin", role="admin").id,
        "other": make_user(app, "autre").id,
        "other_admin": make_user(app, "admine", role="admin").id,
    }
    with app.app_context():
        db.session.get(User, ids["suspended"]).suspended_until = utcnow() + timedelta(days=3)
        db.session.commit()
        answers = []
        for viewer in VIEWERS:
            user = AnonymousUser() if viewer == "anonymous" else db.session.get(User, ids[viewer])
            if target == "self":
                obj = user if viewer != "anonymous" else db.session.get(User, ids["other"])
            else:
                obj = db.session.get(User, ids["other_admin" if target == "admin" else "other"])
            answers.append(can(user, Action(action), obj))
    assert tuple(answers) == MATRIX[(action, target)]
