"""Extension instances, unbound: ``create_app`` binds them to an app; ``get_or_none``."""

from __future__ import annotations

import functools

from flask_babel import Babel
from flask_caching import Cache
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import Select, bindparam, inspect, select
from sqlalchemy.orm.util import identity_key

from forum.db import MAX_ID, Base
from forum.migrating import LazyMigrate

db = SQLAlchemy(model_class=Base)
migrate = LazyMigrate(compare_type=True, render_as_batch=True)
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
limiter = Limiter(key_func=get_remote_address, default_limits=[])
#: Memory per worker, or Redis shared by every worker when FORUM_REDIS_URL is set.
cache = Cache()


@functools.cache
def by_id(model) -> Select:
    """``SELECT … WHERE id = :ident`` for ``model``, built once. ``Session.get`` builds its
    statement again on every call, which costs more than the query it runs."""
    return select(model).where(inspect(model).primary_key[0] == bindparam("ident"))


def get_or_none(model, ident: int | None, **kwargs):
    """The row with this id (from a URL or a form), or None; out-of-range ids name no row.

    As ``Session.get``: the session's own object when it holds one (no query), else one
    query (:func:`by_id`); ``kwargs`` (loader options…) go to ``Session.get``.
    """
    if ident is None or not 0 < ident <= MAX_ID:
        return None
    if kwargs or identity_key(model, ident) in db.session.identity_map:
        return db.session.get(model, ident, **kwargs)
    return db.session.execute(by_id(model), {"ident": ident}).scalar_one_or_none()
