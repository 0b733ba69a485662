"""Writes on accounts: registration, passwords, profiles, roles.

Usernames are compared through :func:`username_key` (NFKC then casefold), so
"Ｍarie", "MARIE" and "marie" are one name; zero-width, bidi-control and other
invisible characters are refused outright, so they cannot fake a look-alike. A name
mixing scripts ("аlice" with a Cyrillic а) is refused, and so is a name whose TR39
skeleton an account already has (:mod:`forum.accounts.lookalike`).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from datetime import timedelta
from functools import cache
from importlib import resources

from email_validator import EmailNotValidError, validate_email
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import DateTime, bindparam, case, or_, select, update
from werkzeug.security import check_password_hash, generate_password_hash

from forum.accounts import lookalike
from forum.accounts.models import Family, Role, User
from forum.db import utcnow
from forum.extensions import db
from forum.notifications import mail
from forum.refusals import Refused

USERNAME_LENGTH = (3, 30)
PASSWORD_LENGTH = (10, 1024)
#: Letters and digits of any script, and - _ . inside the name.
_USERNAME_RE = re.compile(r"^[^\W_](?:[\w.-]*[^\W_])?$")
#: A hash compared when no account matches, so both answers take as long.
_DUMMY_HASH_CACHE: dict[str, str] = {}


def username_key(username: str) -> str:
    return unicodedata.normalize("NFKC", username).casefold()


def email_key(email: str) -> str:
    return email.strip().lower()


#: Letters (category Lo) that render as nothing: the Hangul fillers.
_INVISIBLE_LETTERS = frozenset("\u115f\u1160\u3164\uffa0")


def _has_invisible(text: str) -> bool:
    # Cf = format characters: zero-width (U+200B-U+200F), bidi controls (U+202A-U+202E,
    # U+2066-U+2069), word joiner, BOM…; Cc = control characters; Zs other than space.
    return any(
        unicodedata.category(ch) in ("Cf", "Cc", "Co", "Cs", "Cn") or ch in _INVISIBLE_LETTERS
        for ch in text
    )


def check_username(username: str) -> str:
    """The username as it will be stored, or :class:`Refused` with what to fix."""
    low, high = USERNAME_LENGTH
    if _has_invisible(username):
        raise Refused(_("Le pseudo contient un caractère invisible ou de contrôle : retirez-le."))
    normalised = unicodedata.normalize("NFKC", username.strip())
    if not low <= len(normalised) <= high:
        raise Refused(
            _("Le pseudo doit faire entre %(low)d et %(high)d caractères.", low=low, high=high)
        )
    if not _USERNAME_RE.match(normalised):
        raise Refused(
            _(
                "Le pseudo ne peut contenir que des lettres, des chiffres et les signes - _ . "
                "(pas au début ni à la fin)."
            )
        )
    if lookalike.is_mixed_script(normalised):
        raise Refused(
            _(
                "Le pseudo mélange plusieurs alphabets (par exemple latin et cyrillique) : "
                "écrivez-le dans un seul."
            )
        )
    # One indexed look-up: the same name whatever its case, or a name that looks like it.
    taken = db.session.execute(
        select(User.id)
        .where(
            or_(
                User.username_key == username_key(normalised),
                User.username_skeleton == lookalike.skeleton(normalised),
            )
        )
        .limit(1)
    ).scalar()
    if taken is not None:
        raise Refused(_("Ce pseudo (ou un pseudo qui lui ressemble trop) est déjà pris."))
    return normalised


def check_email(email: str, *, exclude: User | None = None) -> str:
    try:
        email = validate_email(email.strip(), check_deliverability=False).normalized
    except EmailNotValidError:
        raise Refused(_("Cette adresse e-mail n'est pas valide.")) from None
    query = select(User.id).where(User.email_key == email_key(email))
    if exclude is not None:
        query = query.where(User.id != exclude.id)
    if db.session.execute(query).scalar() is not None:
        raise Refused(
            _(
                "Un compte utilise déjà cette adresse e-mail. Connectez-vous ou choisissez-en une autre."
            )
        )
    return email


@cache
def _common_passwords() -> frozenset[str]:
    text = resources.files("forum.accounts").joinpath("common_passwords.txt").read_text("utf-8")
    return frozenset(
        line.strip().lower() for line in text.splitlines() if line.strip() and line[0] != "#"
    )


def check_password(password: str, username: str = "") -> str:
    low, high = PASSWORD_LENGTH
    if len(password) < low:
        raise Refused(_("Le mot de passe doit faire au moins %(low)d caractères.", low=low))
    if len(password) > high:
        raise Refused(_("Le mot de passe ne peut dépasser %(high)d caractères.", high=high))
    if "\x00" in password:
        raise Refused(_("Le mot de passe contient un caractère nul."))
    lowered = password.lower()
    if username and username_key(username) in (username_key(password), lowered):
        raise Refused(_("Le mot de passe ne doit pas être votre pseudo."))
    if lowered in _common_passwords() or len(set(password)) < 3:
        raise Refused(_("Ce mot de passe est trop courant : choisissez-en un plus personnel."))
    return password


def hash_password(password: str) -> str:
    return generate_password_hash(password, method=current_app.config["FORUM_PASSWORD_HASH"])


def _dummy_hash() -> str:
    method = current_app.config["FORUM_PASSWORD_HASH"]
    if method not in _DUMMY_HASH_CACHE:
        _DUMMY_HASH_CACHE[method] = generate_password_hash("not-a-password", method=method)
    return _DUMMY_HASH_CACHE[method]


def register(username: str, email: str, password: str, *, role: Role = Role.MEMBER) -> User:
    """Create an account. :raise Refused: with the first problem found.

    With a mail server configured, the verification mail is queued in the same
    transaction (deliver it after: :func:`pending_mail_ids`); until the link is
    followed the member may read but not write. The caller sends it after commit
    (:func:`forum.notifications.mail.deliver_quietly` of :func:`unsent_mail_ids`).
    """
    username = check_username(username)
    email = check_email(email)
    check_password(password, username)
    user = User(
        username=username,
        username_key=username_key(username),
        username_skeleton=lookalike.skeleton(username),
        email=email,
        email_key=email_key(email),
        password_hash=hash_password(password),
        role=role.value,
    )
    db.session.add(user)
    if mail.mail_enabled():
        db.session.flush()
        token = mail.sign(VERIFY_SALT, [user.id, user.email_key], timed=True)
        mail.queue(
            user.email,
            _("Confirmez votre adresse e-mail"),
            "verify_email",
            user=user,
            url=mail.external_url("accounts.verify_email", token=token),
        )
    db.session.commit()
    return user


def find_by_login(login: str) -> User | None:
    """The user whose pseudo or e-mail is ``login``."""
    login = login.strip()
    if "@" in login:
        clause = User.email_key == email_key(login)
    else:
        clause = User.username_key == username_key(login)
    return db.session.execute(select(User).where(clause)).scalar()


def _password_matches(password_hash: str, password: str) -> bool:
    # HMAC pads short keys with NUL bytes, so "secret\0" would match "secret": no stored
    # password contains NUL, so a password that does never matches.
    return check_password_hash(password_hash, password) and "\x00" not in password


#: Failed logins an account tolerates within :data:`LOGIN_WINDOW`: the next attempt is
#: refused, even with the right password, until the window has passed.
LOGIN_FAILURES = 5
LOGIN_WINDOW = timedelta(minutes=15)


class LoginThrottled(Exception):
    """Too many failed logins on this account: refuse until ``retry_after`` seconds pass."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(retry_after)
        self.retry_after = retry_after
        minutes = max(1, -(-retry_after // 60))
        self.message = _(
            "Trop de tentatives de connexion ont échoué sur ce compte : par sécurité, il est "
            "bloqué pendant encore %(minutes)d minute(s), même avec le bon mot de passe. "
            "Réessayez ensuite, ou choisissez un nouveau mot de passe avec « Mot de passe "
            "oublié ».",
            minutes=minutes,
        )


_users = User.__table__
_WINDOW_OVER = or_(
    _users.c.login_failures_since.is_(None),
    _users.c.login_failures_since < bindparam("window_start", type_=DateTime),
)
#: One attempt more, counted before the password is checked (so that concurrent attempts
#: on several workers cannot all slip under the limit); a window that is over starts anew.
_COUNT_ATTEMPT = (
    update(_users)
    .where(_users.c.id == bindparam("user"))
    .values(
        login_failures=case((_WINDOW_OVER, 1), else_=_users.c.login_failures + 1),
        login_failures_since=case(
            (_WINDOW_OVER, bindparam("now", type_=DateTime)),
            else_=_users.c.login_failures_since,
        ),
    )
    .returning(_users.c.login_failures, _users.c.login_failures_since)
)
_CLEAR_FAILURES = (
    update(_users)
    .where(_users.c.id == bindparam("user"))
    .values(login_failures=0, login_failures_since=None)
)


def password_matches(user: User, password: str) -> bool:
    """Whether ``password`` is ``user``'s (asked again before an irreversible act)."""
    return _password_matches(user.password_hash, password)


def authenticate(login: str, password: str) -> User | None:
    """The user if ``login`` and ``password`` match, else None (same cost either way).

    Each attempt on an existing account is counted in the database first, and
    committed before the password is checked (no lock is held while hashing); a
    success clears the count.

    :raise LoginThrottled: more than :data:`LOGIN_FAILURES` attempts failed on this
        account within :data:`LOGIN_WINDOW` (unless ``FORUM_RATE_LIMITS`` is ``off``).
    """
    user = find_by_login(login) if "\x00" not in login else None
    if user is None:
        check_password_hash(_dummy_hash(), password)
        return None
    user_id, password_hash = user.id, user.password_hash
    if current_app.config["FORUM_RATE_LIMITS"] != "off":
        now = utcnow()
        attempts, since = db.session.execute(
            _COUNT_ATTEMPT, {"user": user_id, "now": now, "window_start": now - LOGIN_WINDOW}
        ).one()
        db.session.commit()
        if attempts > LOGIN_FAILURES:
            raise LoginThrottled(max(1, int((since + LOGIN_WINDOW - now).total_seconds())))
    if not _password_matches(password_hash, password):
        return None
    if current_app.config["FORUM_RATE_LIMITS"] != "off":
        db.session.execute(_CLEAR_FAILURES, {"user": user_id})
        db.session.commit()
    return db.session.get(User, user_id)


def end_other_sessions(user: User) -> None:
    """Bump the session version: every login session but the one re-issued now ends."""
    db.session.execute(
        update(User).where(User.id == user.id).values(session_version=User.session_version + 1)
    )


def log_out(user: User) -> None:
    """End every login session of ``user`` (the cookie's session version no longer matches)."""
    end_other_sessions(user)
    db.session.commit()


def change_password(user: User, current: str, new: str) -> User:
    """:raise Refused: wrong current password or weak new one."""
    if not _password_matches(user.password_hash, current):
        raise Refused(_("Le mot de passe actuel est incorrect."))
    check_password(new, user.username)
    user.password_hash = hash_password(new)
    end_other_sessions(user)
    db.session.commit()
    return user


PROFILE_FIELDS = ("display_name", "bio", "family", "organisation", "territory", "locale")


def update_profile(user: User, **fields) -> User:
    """Change the public profile and preferences; unknown keys are refused."""
    unknown = set(fields) - set(PROFILE_FIELDS)
    if unknown:
        raise TypeError(f"not profile fields: {sorted(unknown)}")
    if fields.get("family") not in (None, "", *[f.value for f in Family]):
        raise Refused(_("Famille d'acteurs inconnue."))
    if fields.get("locale") not in (None, "", *current_app.config["FORUM_LANGUAGES"]):
        raise Refused(_("Langue inconnue."))
    if any(isinstance(value, str) and "\x00" in value for value in fields.values()):
        raise Refused(_("Le texte contient un caractère nul : retirez-le."))
    for key, value in fields.items():
        if isinstance(value, str):
            value = value.strip()
        if key in ("family", "locale"):
            value = value or None
        setattr(user, key, value)
    db.session.commit()
    return user


def set_role(user: User, role: Role | str) -> User:
    """Give ``user`` a role. Who may call this is checked by the caller (admin page, CLI)."""
    user.role = Role(role).value
    db.session.commit()
    return user


# -- account e-mails: password reset, address verification, change of address ---------------

RESET_SALT = "forum-password-reset"
VERIFY_SALT = "forum-verify-email"
EMAIL_CHANGE_SALT = "forum-change-email"
#: A verification link stays valid a week; reset and change links FORUM_TOKEN_MAX_AGE.
VERIFY_MAX_AGE = 7 * 24 * 3600


def _fingerprint(user: User) -> str:
    """Changes with the password: a used (or outdated) reset link stops working."""
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:16]


def request_password_reset(email: str) -> list[int]:
    """Mail a reset link if an account uses ``email``; the caller answers the same either way.

    Returns the outbox ids to deliver after commit (none when no account matches).
    """
    if "\x00" in email:
        return []
    user = db.session.execute(select(User).where(User.email_key == email_key(email))).scalar()
    if user is None:
        return []
    token = mail.sign(RESET_SALT, [user.id, _fingerprint(user)], timed=True)
    queued = mail.queue(
        user.email,
        _("Réinitialiser votre mot de passe"),
        "password_reset",
        user=user,
        url=mail.external_url("accounts.reset_password", token=token),
        hours=max(current_app.config["FORUM_TOKEN_MAX_AGE"] // 3600, 1),
    )
    db.session.commit()
    return [queued.id]


def _reset_user(token: str) -> User:
    payload = mail.unsign(RESET_SALT, token, max_age=current_app.config["FORUM_TOKEN_MAX_AGE"])
    user = None
    if isinstance(payload, list) and len(payload) == 2 and isinstance(payload[0], int):
        user = db.session.get(User, payload[0])
    if user is None or payload[1] != _fingerprint(user):
        raise Refused(
            _(
                "Ce lien de réinitialisation n'est plus valable (déjà utilisé ou trop ancien). "
                "Demandez-en un nouveau."
            )
        )
    return user


def check_reset_token(token: str) -> User:
    """:raise Refused: a forged, used or expired link."""
    return _reset_user(token)


def reset_password(token: str, password: str) -> User:
    """Set a new password from a reset link; the link then stops working, other sessions end.

    :raise Refused: bad link or weak password.
    """
    user = _reset_user(token)
    check_password(password, user.username)
    user.password_hash = hash_password(password)
    user.login_failures, user.login_failures_since = 0, None  # the link proved the owner
    if user.email_verified_at is None:  # the link proved the address
        user.email_verified_at = utcnow()
    end_other_sessions(user)
    db.session.commit()
    db.session.refresh(user)
    return user


def unsent_mail_ids(user: User) -> list[int]:
    return list(
        db.session.execute(
            select(mail.OutboxMail.id).where(
                mail.OutboxMail.user_id == user.id, mail.OutboxMail.sent_at.is_(None)
            )
        ).scalars()
    )


def send_verification(user: User) -> list[int]:
    """Queue the mail with the link that verifies ``user``'s address; commits."""
    token = mail.sign(VERIFY_SALT, [user.id, user.email_key], timed=True)
    queued = mail.queue(
        user.email,
        _("Confirmez votre adresse e-mail"),
        "verify_email",
        user=user,
        url=mail.external_url("accounts.verify_email", token=token),
    )
    db.session.commit()
    return [queued.id]


def verify_email(token: str) -> User:
    """:raise Refused: forged or expired link, or an address changed since."""
    payload = mail.unsign(VERIFY_SALT, token, max_age=VERIFY_MAX_AGE)
    user = None
    if isinstance(payload, list) and len(payload) == 2 and isinstance(payload[0], int):
        user = db.session.get(User, payload[0])
    if user is None or payload[1] != user.email_key:
        raise Refused(_("Ce lien de confirmation n'est pas valable. Demandez-en un nouveau."))
    if user.email_verified_at is None:
        user.email_verified_at = utcnow()
        db.session.commit()
    return user


def request_email_change(user: User, password: str, new_email: str) -> list[int]:
    """Mail a confirmation link to the new address; nothing changes until it is followed.

    :raise Refused: wrong password, invalid or taken address.
    """
    if not _password_matches(user.password_hash, password):
        raise Refused(_("Le mot de passe est incorrect."))
    new_email = check_email(new_email, exclude=user)
    if email_key(new_email) == user.email_key:
        raise Refused(_("C'est déjà votre adresse."))
    token = mail.sign(EMAIL_CHANGE_SALT, [user.id, new_email, user.email_key], timed=True)
    queued = mail.queue(
        new_email,
        _("Confirmez votre nouvelle adresse e-mail"),
        "change_email",
        user=user,
        new_email=new_email,
        url=mail.external_url("accounts.confirm_email_change", token=token),
    )
    db.session.commit()
    return [queued.id]


def confirm_email_change(token: str) -> User:
    """:raise Refused: bad or expired link, address taken meanwhile."""
    payload = mail.unsign(
        EMAIL_CHANGE_SALT, token, max_age=current_app.config["FORUM_TOKEN_MAX_AGE"]
    )
    user = None
    if isinstance(payload, list) and len(payload) == 3 and isinstance(payload[0], int):
        user = db.session.get(User, payload[0])
    if user is None or payload[2] != user.email_key:
        raise Refused(_("Ce lien de confirmation n'est plus valable. Recommencez le changement."))
    new_email = check_email(payload[1], exclude=user)
    user.email, user.email_key = new_email, email_key(new_email)
    user.email_verified_at = utcnow()
    db.session.commit()
    return user
