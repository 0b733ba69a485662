"""Writes on accounts: registration, passwords, profiles, roles.

Usernames are compared through :func:`username_key` (NFKC then casefold), so
"Ｍarie", "MARIE" and "marie" are one name; zero-width, bidi-control and other
invisible characters are refused outright, so they cannot fake a look-alike.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache
from importlib import resources

from email_validator import EmailNotValidError, validate_email
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select, update
from werkzeug.security import check_password_hash, generate_password_hash

from forum.accounts.models import Family, Role, User
from forum.errors import Refused
from forum.extensions import db

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
    taken = db.session.execute(
        select(User.id).where(User.username_key == username_key(normalised))
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
    """Create an account. :raise Refused: with the first problem found."""
    username = check_username(username)
    email = check_email(email)
    check_password(password, username)
    user = User(
        username=username,
        username_key=username_key(username),
        email=email,
        email_key=email_key(email),
        password_hash=hash_password(password),
        role=role.value,
    )
    db.session.add(user)
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


def authenticate(login: str, password: str) -> User | None:
    """The user if ``login`` and ``password`` match, else None (same cost either way)."""
    user = find_by_login(login) if "\x00" not in login else None
    if user is None:
        check_password_hash(_dummy_hash(), password)
        return None
    return user if _password_matches(user.password_hash, password) else None


def end_other_sessions(user: User) -> None:
    """Bump the session version: every login session but the one re-issued now ends."""
    db.session.execute(
        update(User).where(User.id == user.id).values(session_version=User.session_version + 1)
    )


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
