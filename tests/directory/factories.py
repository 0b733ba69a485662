"""Organisations and offers built through the directory's services."""

from __future__ import annotations

import itertools
from datetime import timedelta

from flask import Flask
from sqlalchemy import select, update

from forum.accounts.models import User
from forum.db import utcnow
from forum.directory import services
from forum.directory.models import Offer, Organisation
from forum.extensions import db

_numbers = itertools.count(1)


def _user(user) -> User:
    return db.session.get(User, getattr(user, "id", user))


def _detached(obj):
    db.session.refresh(obj)
    db.session.expunge(obj)
    return obj


def make_organisation(
    app: Flask,
    representative,
    name: str | None = None,
    *,
    family: str = "ess",
    kind: str = "cooperative",
    region: str = "11",
    departement: str = "93",
    commune: str = "",
    description: str = "",
) -> Organisation:
    name = name or f"Organisation n°{next(_numbers)}"
    with app.app_context():
        org = services.create_organisation(
            _user(representative), name, family, kind, region, departement, commune, description
        )
        return _detached(org)


def add_member(app: Flask, organisation, user, role: str = "member") -> None:
    """``user`` asks to join and a representative accepts (or they are made representative)."""
    with app.app_context():
        org = db.session.get(Organisation, organisation.id)
        services.request_join(_user(user), org)
        rep = db.session.execute(select(User).where(User.id == org.created_by_id)).scalar_one()
        services.answer_join(rep, org, user.id, True)
        if role == "representative":
            services.set_member_role(rep, org, user.id, "representative")


def make_offer(
    app: Flask,
    representative,
    organisation,
    title: str | None = None,
    *,
    kind: str = "offer",
    category: str = "service",
    theme: str | None = None,
    scope: str = "local",
    days: int = 60,
    body: str = "Une description précise de ce que nous proposons ou cherchons.",
    age_days: int = 0,
) -> Offer:
    title = title or f"Une annonce n°{next(_numbers)}"
    with app.app_context():
        org = db.session.get(Organisation, organisation.id)
        offer = services.create_offer(
            _user(representative),
            org,
            kind,
            title,
            body,
            category,
            theme,
            scope,
            utcnow().date() + timedelta(days=days),
        )
        if age_days:
            db.session.execute(
                update(Offer)
                .where(Offer.id == offer.id)
                .values(created_at=utcnow() - timedelta(days=age_days))
            )
            db.session.commit()
        return _detached(offer)
