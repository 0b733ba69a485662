"""Public pages on personal data (``/privacy``) and accessibility (``/accessibilite``)."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template

bp = Blueprint("privacy", __name__)


@bp.get("/privacy")
def privacy():
    """What the forum stores, why, for how long, who sees it, and how to export or erase it."""
    config = current_app.config
    return render_template(
        "privacy/privacy.html",
        controller=config["FORUM_DATA_CONTROLLER"],
        contact=config["FORUM_DATA_CONTACT"],
        days={
            "ip": config["FORUM_IP_RETENTION_DAYS"],
            "mail": config["FORUM_MAIL_RETENTION_DAYS"],
            "notifications": config["FORUM_NOTIFICATION_RETENTION_DAYS"],
            "read_positions": config["FORUM_READ_POSITION_RETENTION_DAYS"],
        },
    )


@bp.get("/accessibilite")
def accessibility():
    """The accessibility statement (déclaration d'accessibilité, RGAA 4.1 format)."""
    return render_template(
        "privacy/accessibility.html", contact=current_app.config["FORUM_DATA_CONTACT"]
    )
