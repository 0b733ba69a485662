"""Extension instances, unbound: ``create_app`` binds them to an app; ``get_or_none``."""

from __future__ import annotations

from flask_babel import Babel
from flask_caching import Cache
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect

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


def get_or_none(model, ident: int | None, **kwargs):
    """The row with this id (from a URL or a form), or None; out-of-range ids name no row."""
    if ident is None or not 0 < ident <= MAX_ID:
        return None
    return db.session.get(model, ident, **kwargs)
