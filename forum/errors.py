"""Errors in one place: the HTTP error pages (services raise :class:`forum.refusals.Refused`).

Pages are friendly French HTML (or JSON for ``/api/`` and clients that ask
for it); a 500 rolls the session back and never shows a stack trace; a SQLite
lock that outlived the busy timeout answers 503 with ``Retry-After``.
"""

from __future__ import annotations

from flask import Flask, g, jsonify, make_response, render_template, request
from flask_babel import lazy_gettext as _l
from markupsafe import escape
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException

from forum.extensions import db

MESSAGES = {
    400: (_l("Requête incorrecte"), _l("La demande n'a pas pu être comprise. Vérifiez le formulaire et réessayez.")),
    403: (_l("Accès refusé"), _l("Vous n'avez pas le droit de faire cela. Connectez-vous avec un compte qui en a le droit.")),
    404: (_l("Page introuvable"), _l("Cette page n'existe pas ou plus. Le lien est peut-être ancien : essayez la recherche ou l'accueil.")),
    405: (_l("Méthode non autorisée"), _l("Cette adresse ne s'utilise pas ainsi. Passez par les boutons de la page.")),
    413: (_l("Envoi trop volumineux"), _l("Ce que vous avez envoyé dépasse la taille permise (1 Mo). Raccourcissez le texte et réessayez.")),
    429: (_l("Trop de demandes"), _l("Vous êtes allé·e un peu vite. Patientez un instant puis réessayez.")),
    500: (_l("Erreur du serveur"), _l("Quelque chose s'est mal passé de notre côté. Rien de ce que vous aviez déjà publié n'est perdu ; réessayez dans un moment.")),
    503: (_l("Service momentanément indisponible"), _l("Le forum est très sollicité ou sa base de données ne répond pas. Réessayez dans quelques secondes.")),
}  # fmt: skip


FALLBACK_PAGE = (
    '<!doctype html><html lang="fr"><meta charset="utf-8"><title>{title}</title>'
    "<h1>{title}</h1><p>{message}</p></html>"
)


def _wants_json() -> bool:
    if request.path.startswith("/api/"):
        return True
    accept = request.accept_mimetypes
    return accept["application/json"] > accept["text/html"]


def error_response(code: int, detail: str | None = None, headers: dict | None = None):
    """The error page (or JSON document) for ``code``; ``detail`` replaces the default text."""
    title, message = MESSAGES.get(code, MESSAGES[500])
    text = detail or str(message)
    if _wants_json():
        response = make_response(
            jsonify(
                error={
                    "code": code,
                    "title": str(title),
                    "message": text,
                    "request_id": g.get("request_id"),
                }
            )
        )
    else:
        try:
            page = render_template("errors/error.html", code=code, title=title, message=text)
        except Exception:  # the page itself needs the database: answer without it
            db.session.rollback()
            page = FALLBACK_PAGE.format(title=escape(str(title)), message=escape(text))
        response = make_response(page)
    response.status_code = code
    response.headers.update(headers or {})
    return response


def _is_lock_timeout(exc: OperationalError) -> bool:
    return "database is locked" in str(exc.orig) or "database is busy" in str(exc.orig)


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        code = exc.code or 500
        headers = {}
        if code == 405 and getattr(exc, "valid_methods", None):
            headers["Allow"] = ", ".join(exc.valid_methods)
        if code == 429:
            headers["Retry-After"] = str(_retry_after(exc))
        detail = exc.description if code in (400, 403, 429) and _is_custom(exc) else None
        return error_response(code, detail, headers)

    @app.errorhandler(OperationalError)
    def _database_error(exc: OperationalError):
        db.session.rollback()
        if _is_lock_timeout(exc):
            return error_response(503, headers={"Retry-After": "2"})
        app.logger.exception("database error")
        return error_response(503, headers={"Retry-After": "10"})

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        db.session.rollback()
        app.logger.exception("unexpected error on %s %s", request.method, request.path)
        return error_response(500)


def _retry_after(exc: HTTPException) -> int:
    """Seconds until a retry may work: the window of the rate limit that was hit."""
    limit = getattr(getattr(exc, "limit", None), "limit", None)
    if limit is not None:
        return max(1, int(limit.get_expiry()))
    return int(getattr(exc, "retry_after", None) or 60)


def _is_custom(exc: HTTPException) -> bool:
    """Whether the description was set by our code rather than Werkzeug's default."""
    return exc.description != type(exc).description
