"""``flask forum …`` commands: seed-demo, create-admin, set-role, rerender, reindex,
send-mail, send-digests, bench-data."""

from __future__ import annotations

import secrets

import click
from flask import Flask
from flask.cli import AppGroup
from sqlalchemy import select

from forum.accounts import services as accounts
from forum.accounts.models import Role, User
from forum.db import write_intent
from forum.discussions import services as discussions
from forum.discussions.models import Theme
from forum.extensions import db
from forum.moderation import services as moderation
from forum.refusals import Refused
from forum.search import services as search

forum_cli = AppGroup("forum", help="Administration du forum Rencontres sociales.")


def _user_or_fail(username: str) -> User:
    user = db.session.execute(
        select(User).where(User.username_key == accounts.username_key(username))
    ).scalar()
    if user is None:
        raise click.ClickException(f"Aucun compte ne porte le pseudo « {username} ».")
    return user


@forum_cli.command("create-admin")
@click.argument("username")
@click.argument("email")
@click.option("--password", help="Mot de passe ; sinon un mot de passe aléatoire est affiché.")
def create_admin(username: str, email: str, password: str | None) -> None:
    """Create an administrator account."""
    shown = password is None
    password = password or secrets.token_urlsafe(12)
    with write_intent():
        try:
            user = accounts.register(username, email, password, role=Role.ADMIN)
        except Refused as exc:
            raise click.ClickException(exc.message) from None
    click.echo(f"Compte administrateur « {user.username} » créé.")
    if shown:
        click.echo(f"Mot de passe : {password}")


@forum_cli.command("set-role")
@click.argument("username")
@click.argument("role", type=click.Choice([r.value for r in Role]))
@click.option("--theme", "theme_slug", help="Modérateur·rice de ce thème seulement (slug).")
def set_role(username: str, role: str, theme_slug: str | None) -> None:
    """Give USERNAME the role member, moderator or admin.

    With --theme SLUG, a moderator moderates that theme (added to their themes);
    without it, every theme.
    """
    theme = None
    if theme_slug is not None:
        if role != Role.MODERATOR:
            raise click.ClickException("--theme ne s'utilise qu'avec le rôle moderator.")
        theme = db.session.execute(select(Theme).where(Theme.slug == theme_slug)).scalar()
        if theme is None:
            raise click.ClickException(f"Aucun thème n'a l'adresse « {theme_slug} ».")
    with write_intent():
        user = moderation.set_role(None, _user_or_fail(username), role, theme)
    scope = f" du thème « {theme.name} »" if theme else ""
    click.echo(f"{user.username} est maintenant {user.role_label}{scope}.")


@forum_cli.command("set-organiser")
@click.argument("username")
@click.option("--off", is_flag=True, help="Retirer le droit d'organiser des séminaires.")
def set_organiser(username: str, off: bool) -> None:
    """Let USERNAME organise seminars (admins always may)."""
    with write_intent():
        user = _user_or_fail(username)
        user.is_organiser = not off
        db.session.commit()
    state = "n'organise plus" if off else "peut maintenant organiser"
    click.echo(f"{user.username} {state} des séminaires.")


@forum_cli.command("rerender")
def rerender() -> None:
    """Render again the posts rendered by an older version of the rules."""
    with write_intent():
        count = discussions.rerender_stale()
        if count:  # the indexed text comes from the rendered HTML
            search.reindex()
    click.echo(f"{count} message(s) rendu(s) à nouveau.")


@forum_cli.command("reindex")
def reindex() -> None:
    """Rebuild the search index: posts, news, seminars and sessions (with their minutes)."""
    with write_intent():
        count = search.reindex()
    click.echo(f"{count} message(s), actualité(s), séminaire(s) et séance(s) indexé(s).")


@forum_cli.command("seed-demo")
def seed_demo() -> None:
    """Load the French demo content (idempotent); prints the demo accounts."""
    from forum.debate.demo import seed as seed_debate
    from forum.demo import seed

    with write_intent():
        accounts_created = seed()
        seed_debate()
    if accounts_created is None:
        click.echo("Le contenu de démonstration est déjà chargé.")
        return
    click.echo("Contenu de démonstration chargé. Comptes (usage local uniquement) :")
    for username, password, role in accounts_created:
        click.echo(f"  {username:<18} {password:<24} {role}")


@forum_cli.command("send-mail")
def send_mail() -> None:
    """Send the mails still waiting in the outbox (after an SMTP outage): meant for cron."""
    from forum.notifications import mail

    total_sent = total_failed = 0
    with write_intent():
        while True:
            sent, failed = mail.deliver(limit=500)
            total_sent, total_failed = total_sent + sent, total_failed + failed
            if failed or sent < 500:
                break
    click.echo(f"{total_sent} e-mail(s) envoyé(s), {total_failed} en échec (réessayés plus tard).")
    if total_failed:
        raise SystemExit(1)


@forum_cli.command("send-digests")
def send_digests() -> None:
    """Send the daily digest to each member who has news: meant for a daily cron."""
    from forum.notifications import digests

    count = digests.send_digests()
    click.echo(f"{count} résumé(s) envoyé(s).")


@forum_cli.command("bench-data")
@click.option("--posts", type=click.IntRange(1), required=True, help="Nombre de messages.")
@click.option("--threads", type=click.IntRange(1), help="Nombre de fils (défaut : posts / 25).")
@click.option("--users", type=click.IntRange(1), help="Nombre de comptes (défaut : posts / 40).")
@click.option("--seed", type=int, default=7, show_default=True, help="Graine du hasard.")
def bench_data(posts: int, threads: int | None, users: int | None, seed: int) -> None:
    """Write a benchmark data set of POSTS messages in bulk (users, threads, trees, index)."""
    import time

    from forum import bench
    from forum.discussions.models import Theme

    started = time.perf_counter()
    theme_ids = list(
        db.session.execute(select(Theme.id).where(Theme.archived_at.is_(None))).scalars()
    )
    db.session.remove()
    plan = bench.make_plan(posts, threads, users, theme_ids, seed=seed)
    report = bench.write_plan(plan)
    elapsed = time.perf_counter() - started
    steps = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in report.seconds.items())
    click.echo(
        f"{report.posts} messages, {report.threads} fils, {report.users} comptes "
        f"en {elapsed:.1f} s ({steps})."
    )


def register_cli(app: Flask) -> None:
    app.cli.add_command(forum_cli)
