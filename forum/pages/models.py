"""Page versions: one counter per scope that every write touching its pages moves.

A page's version is the sum of the counters it depends on (each only ever grows,
so the sum grows with any of them): a thread page reads the site's counter and its
thread's, a theme page the site's and its theme's, the home page the site's, the
home's and every theme's (a new reply moves its theme, so the home page's latest
threads follow without a counter that every writer would wait on).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from forum.db import utcnow
from forum.extensions import db

#: Scopes: everything (a rename, an erasure, a theme rename), the home page's own
#: content (news, seminars), one theme's pages, one thread's pages.
SITE, HOME, THEME, THREAD = "site", "home", "theme", "thread"


class PageVersion(db.Model):
    __tablename__ = "page_versions"

    scope: Mapped[str] = mapped_column(String(10), primary_key=True)
    #: The theme's or thread's id; 0 for the site and the home page.
    ref_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    version: Mapped[int] = mapped_column(BigInteger, nullable=False, default=1)
    changed_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=utcnow)
