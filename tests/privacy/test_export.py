""" "Télécharger mes données": asked, built in the background, downloaded as a ZIP."""

from __future__ import annotations

import io
import json
import re
import zipfile
from datetime import timedelta

from sqlalchemy import select, update

from forum.db import utcnow
from forum.extensions import db
from forum.notifications.models import OutboxMail
from forum.privacy import export
from forum.privacy.models import DataExport
from tests.privacy.conftest import EMAIL, USERNAME, member_everywhere


def _ask(client):
    return client.post_form("/settings/data", {})


def _download(client, link: str) -> tuple[int, str, bytes]:
    """Status, type and body of the download; the file is closed (it is streamed)."""
    response = client.get(link)
    try:
        return response.status_code, response.mimetype, response.get_data()
    finally:
        response.close()


def test_export_is_built_in_the_background_then_downloaded(app, client, auth):
    world = member_everywhere(app)
    auth.login(USERNAME)
    assert _ask(client).status_code == 302
    page = client.get("/settings/data").get_data(as_text=True)
    assert 'id="export-progress"' in page and ".zip" not in page  # not built by the request

    with app.app_context():
        assert export.build_pending() == 1
        mail = db.session.execute(
            select(OutboxMail).where(OutboxMail.subject == "Vos données sont prêtes")
        ).scalar_one()
        assert mail.to_address == EMAIL

    page = client.get("/settings/data").get_data(as_text=True)
    link = re.search(r'href="(/settings/data/[\w-]+\.zip)"', page).group(1)
    assert link in mail.text_body
    status, mimetype, body = _download(client, link)
    assert (status, mimetype) == (200, "application/zip")

    archive = zipfile.ZipFile(io.BytesIO(body))
    names = set(archive.namelist())
    assert {"index.html", "profile.json", "posts.json", "threads.json", "reports.json",
            "sanctions.json", "seminars.json", "watches.json", "preferences.json",
            "notifications.json"} <= names  # fmt: skip
    profile = json.loads(archive.read("profile.json"))
    assert (profile["username"], profile["email"]) == (USERNAME, EMAIL)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", profile["created_at"])
    posts = {p["id"]: p for p in json.loads(archive.read("posts.json"))}
    kept = posts[world.kept_post_id]
    assert kept["body_source"] == "Nous avons obtenu le maintien des horaires du samedi."
    assert [r["body_source"] for r in kept["revisions"]] == [
        "Nous avons obtenu un maintien des horaires."
    ]
    assert world.bruno_reply_id not in posts  # others' posts are theirs
    assert [t["title"] for t in json.loads(archive.read("threads.json"))] == [
        "La poste du bourg ferme le samedi"
    ]
    assert [r["note"] for r in json.loads(archive.read("reports.json"))] == ["Hors sujet ?"]
    assert [s["reason"] for s in json.loads(archive.read("sanctions.json"))] == ["Ton trop vif."]
    assert json.loads(archive.read("seminars.json"))[0]["status"] == "confirmed"
    assert json.loads(archive.read("watches.json"))["themes"][0]["theme"] == "urbain"
    assert {"kind": "reply", "delivery": "digest"} in json.loads(archive.read("preferences.json"))
    (conversation,) = json.loads(archive.read("conversations.json"))
    assert conversation["subject"] == "Horaires de la poste"
    assert [m["body_source"] for m in conversation["messages"] if m["kind"] == "message"] == [
        "On en parle ?",
        "Oui @ondine_r, demain matin.",
    ]
    assert json.loads(archive.read("blocks.json"))[0]["username"] == "claire"
    organisations = json.loads(archive.read("organisations.json"))
    assert [(m["organisation"], m["role"]) for m in organisations["memberships"]] == [
        ("Union locale de Montreuil", "representative")
    ]
    debate = json.loads(archive.read("debate.json"))
    assert [r["reaction"] for r in debate["reactions"]] == ["merci"]
    assert [(v["question"], v["option"]) for v in debate["votes"]] == [
        ("Un samedi par mois ?", "Oui")
    ]
    index = archive.read("index.html").decode()
    assert "posts.json" in index and "ISO 8601" in index


def test_one_export_a_day_and_only_for_its_owner_while_valid(app, client, auth):
    member_everywhere(app)
    auth.login(USERNAME)
    _ask(client)
    again = _ask(client)
    assert again.status_code == 400
    assert "moins de 24 heures" in again.get_data(as_text=True)
    with app.app_context():
        export.build_pending()
        token = db.session.execute(select(DataExport.token)).scalar_one()
    link = f"/settings/data/{token}.zip"
    assert _download(client, link)[0] == 200

    auth.logout()
    auth.login("bruno")
    assert client.get(link).status_code == 404  # someone else's: no such file for them
    auth.logout()
    assert client.get(link).status_code == 302  # anonymous: the login page

    auth.login(USERNAME)
    with app.app_context():
        db.session.execute(update(DataExport).values(expires_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()
    assert client.get(link).status_code == 404
    with app.app_context():
        from forum.privacy import retention

        assert retention.purge()["exports"] == 1
        assert not (export.directory() / f"{token}.zip").exists()
    # A day later, a new export may be asked for.
    with app.app_context():
        db.session.execute(update(DataExport).values(created_at=utcnow() - timedelta(days=1)))
        db.session.commit()
    assert _ask(client).status_code == 302


def test_building_twice_does_nothing_more(app, client, auth):
    member_everywhere(app)
    auth.login(USERNAME)
    _ask(client)
    with app.app_context():
        export_id = db.session.execute(select(DataExport.id)).scalar_one()
        export.build(export_id)
        export.build(export_id)
        mails = db.session.execute(
            select(OutboxMail).where(OutboxMail.subject == "Vos données sont prêtes")
        ).all()
        assert len(mails) == 1


def test_every_model_holding_member_data_is_exported_or_excluded_with_a_reason():
    """A new model that refers to members must say where it goes in the export."""
    missing = []
    for mapper in db.Model.registry.mappers:
        model = mapper.class_
        table = mapper.local_table
        refers = table.name == "users" or any(
            fk.column.table.name == "users" for fk in table.foreign_keys
        )
        if refers and model not in export.EXPORTED and model not in export.EXCLUDED:
            missing.append(model.__name__)
    assert missing == [], f"add these to EXPORTED or EXCLUDED in forum/privacy/export.py: {missing}"
    assert all(reason.strip() for reason in export.EXCLUDED.values())
