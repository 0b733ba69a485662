"""Users, their roles and their families of actors."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from flask_babel import lazy_gettext as _l
from flask_login import AnonymousUserMixin, UserMixin
from sqlalchemy import Boolean, CheckConstraint, DateTime, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from forum.db import TimestampMixin, utcnow
from forum.extensions import db


class Role(StrEnum):
    MEMBER = "member"
    MODERATOR = "moderator"
    ADMIN = "admin"


ROLE_LABELS = {
    Role.MEMBER: _l("membre"),
    Role.MODERATOR: _l("modérateur·rice"),
    Role.ADMIN: _l("administrateur·rice"),
}


class Family(StrEnum):
    ESS = "ess"
    SYNDICAL = "syndical"
    TERRITOIRES = "territoires"
    CITOYEN = "citoyen"


FAMILY_LABELS = {
    Family.ESS: _l("Économie sociale et solidaire"),
    Family.SYNDICAL: _l("Mouvement syndical"),
    Family.TERRITOIRES: _l("Acteurs des territoires"),
    Family.CITOYEN: _l("Citoyen·ne"),
}


class User(UserMixin, TimestampMixin, db.Model):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint("role IN ('member', 'moderator', 'admin')", name="role"),
        CheckConstraint(
            "family IS NULL OR family IN ('ess', 'syndical', 'territoires', 'citoyen')",
            name="family",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: As typed at registration, shown everywhere.
    username: Mapped[str] = mapped_column(String(30), nullable=False)
    #: NFKC + casefold of ``username``: what uniqueness and look-ups compare.
    username_key: Mapped[str] = mapped_column(String(120), unique=True, nullable=False)
    #: What the name looks like (:func:`forum.accounts.lookalike.skeleton`): a new name
    #: whose skeleton an account already has is refused. Not unique: names from before
    #: the check may share one.
    username_skeleton: Mapped[str] = mapped_column(
        String(255), nullable=False, default="", server_default="", index=True
    )
    email: Mapped[str] = mapped_column(String(254), nullable=False)
    #: Lower-cased address: what uniqueness and log-in compare.
    email_key: Mapped[str] = mapped_column(String(254), unique=True, nullable=False)
    password_hash: Mapped[str] = mapped_column(String(255), nullable=False)
    role: Mapped[str] = mapped_column(String(20), nullable=False, default=Role.MEMBER.value)
    display_name: Mapped[str] = mapped_column(String(80), nullable=False, default="")
    bio: Mapped[str] = mapped_column(Text, nullable=False, default="")
    family: Mapped[str | None] = mapped_column(String(20))
    organisation: Mapped[str] = mapped_column(String(120), nullable=False, default="")
    territory: Mapped[str] = mapped_column(String(120), nullable=False, default="")
    locale: Mapped[str | None] = mapped_column(String(5))
    #: Part of the login session id: bumping it ends every other session.
    session_version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    post_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    #: Set by an admin: may publish seminars and manage their registrations (admins always may).
    is_organiser: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    last_seen_at: Mapped[datetime | None] = mapped_column(DateTime)
    #: The current sanctions, copied from the latest ``sanctions`` rows so that rules need
    #: no query; a ban is a suspension until :data:`forum.moderation.models.FOREVER`.
    silenced_until: Mapped[datetime | None] = mapped_column(DateTime)
    suspended_until: Mapped[datetime | None] = mapped_column(DateTime)
    #: Unread notifications: the bell reads it from the row already loaded, no query.
    unread_notifications: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    #: Set when the member followed the link mailed at registration (None: not yet).
    email_verified_at: Mapped[datetime | None] = mapped_column(DateTime)
    #: Login attempts since ``login_failures_since`` that did not succeed: counted in the
    #: database, so the throttle holds whatever the worker or machine answering
    #: (:func:`forum.accounts.services.authenticate`). No address is kept.
    login_failures: Mapped[int] = mapped_column(
        Integer, nullable=False, default=0, server_default="0"
    )
    login_failures_since: Mapped[datetime | None] = mapped_column(DateTime)
    #: Set when the account was erased: it no longer logs in, its name is anonymous.
    erased_at: Mapped[datetime | None] = mapped_column(DateTime)
    #: Private conversations with unread messages (the header's number), moved in SQL.
    unread_conversations: Mapped[int] = mapped_column(Integer, nullable=False, default=0)

    def get_id(self) -> str:
        return f"{self.id}:{self.session_version}"

    @property
    def name(self) -> str:
        """What pages show: the display name if any, else the pseudo."""
        return self.display_name or self.username

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN

    @property
    def is_moderator(self) -> bool:
        return self.role in (Role.MODERATOR, Role.ADMIN)

    @property
    def is_silenced(self) -> bool:
        return self.silenced_until is not None and self.silenced_until > utcnow()

    @property
    def is_suspended(self) -> bool:
        return self.suspended_until is not None and self.suspended_until > utcnow()

    @property
    def family_label(self) -> str:
        return str(FAMILY_LABELS[Family(self.family)]) if self.family else ""

    @property
    def role_label(self) -> str:
        return str(ROLE_LABELS[Role(self.role)])

    def __repr__(self) -> str:
        return f"<User {self.username}>"


class AnonymousUser(AnonymousUserMixin):
    """The visitor who is not logged in: a null object with no rights."""

    id = None
    role = None
    username = ""
    name = ""
    locale = None
    is_admin = False
    is_moderator = False
    is_organiser = False
    is_silenced = False
    is_suspended = False
    unread_notifications = 0
    email_verified_at = None
