"""``flask forum …`` commands: seed-demo, create-admin, set-role, rerender, reindex,
send-mail, send-digests, purge, erase-user, build-exports, bench-data, worker, backup,
restore."""

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
    while True:
        sent, failed = mail.deliver(limit=500, force=True)
        total_sent, total_failed = total_sent + sent, total_failed + failed
        if failed or sent < 500:
            break
    click.echo(f"{total_sent} e-mail(s) envoyé(s), {total_failed} en échec (réessayés plus tard).")
    if total_failed:
        raise SystemExit(1)


@forum_cli.command("send-digests")
def send_digests() -> None:
    """Send the daily digest to each member who has news now (the worker does it daily)."""
    from forum.notifications import digests, mail

    count = digests.send_digests()
    mail.deliver()  # without a running worker, nothing else would send them
    click.echo(f"{count} résumé(s) envoyé(s).")


@forum_cli.command("purge")
def purge() -> None:
    """Delete personal data past its retention period (FORUM_*_RETENTION_DAYS): cron-safe."""
    from forum.privacy import retention

    with write_intent():
        counts = retention.purge()
        db.session.commit()
    click.echo(
        f"{counts['mails']} e-mail(s) envoyé(s), {counts['notifications']} notification(s) lue(s), "
        f"{counts['read_positions']} position(s) de lecture, {counts['jobs']} tâche(s) finie(s), "
        f"{counts['exports']} fichier(s) d'export effacé(s)."
    )


@forum_cli.command("erase-user")
@click.argument("username")
@click.option("--with-posts", is_flag=True, help="Supprimer aussi ses messages.")
def erase_user(username: str, with_posts: bool) -> None:
    """Erase USERNAME's account: debates stay readable under an anonymous name."""
    from forum.privacy import erasure

    user = _user_or_fail(username)
    with write_intent():
        try:
            erasure.erase_account(user, actor=None, with_posts=with_posts)
        except Refused as exc:
            raise click.ClickException(exc.message) from None
    click.echo(f"Compte « {username} » supprimé : il s'appelle désormais « {user.username} ».")


@forum_cli.command("build-exports")
def build_exports() -> None:
    """Build the data exports members asked for (what the background worker does)."""
    from forum.privacy import export

    with write_intent():
        count = export.build_pending()
    click.echo(f"{count} export(s) préparé(s).")


@forum_cli.command("bench-data")
@click.option("--posts", type=click.IntRange(1), required=True, help="Nombre de messages.")
@click.option("--threads", type=click.IntRange(1), help="Nombre de fils (défaut : posts / 25).")
@click.option("--users", type=click.IntRange(1), help="Nombre de comptes (défaut : posts / 40).")
@click.option("--seed", type=int, default=7, show_default=True, help="Graine du hasard.")
@click.option(
    "--organisations", type=click.IntRange(0), default=0, help="Organisations de l'annuaire."
)
@click.option(
    "--offers", type=click.IntRange(0), default=0, help="Offres et besoins de l'annuaire."
)
def bench_data(
    posts: int,
    threads: int | None,
    users: int | None,
    seed: int,
    organisations: int = 0,
    offers: int = 0,
) -> None:
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
    if organisations:
        from forum.directory.bench import write_directory

        orgs, written = write_directory(organisations, offers if offers else 0, seed=seed)
        click.echo(f"Annuaire : {orgs} organisations, {written} offres et besoins.")


@forum_cli.command("set-mediator")
@click.argument("username")
@click.option("--off", is_flag=True, help="Ne plus être médiateur·rice.")
def set_mediator(username: str, off: bool) -> None:
    """Mark the moderator USERNAME as mediator of contact requests (or no longer, --off)."""
    from forum.directory import contacts

    with write_intent():
        user = _user_or_fail(username)
        try:
            contacts.set_mediator(None, user, not off)
        except Refused as exc:
            raise click.ClickException(exc.message) from None
    state = "n'est plus" if off else "est maintenant"
    click.echo(f"{user.username} {state} médiateur·rice des mises en relation.")


@forum_cli.command("expire-contacts")
def expire_contacts() -> None:
    """Expire the contact requests left unanswered for 30 days: meant for a daily cron."""
    from forum.directory import contacts

    with write_intent():
        count = contacts.expire()
    click.echo(f"{count} demande(s) de mise en relation expirée(s).")


@forum_cli.command("worker")
@click.option("--once", is_flag=True, help="Faire le travail en attente, puis s'arrêter.")
def worker(once: bool) -> None:
    """Send mail and run background jobs (digests, purges…) until stopped (Ctrl-C, SIGTERM)."""
    import signal
    import threading

    from flask import current_app

    from forum.jobs import services, worker

    if once:
        totals = services.run_pending(force=True)
        click.echo(
            f"{totals['sent']} e-mail(s) envoyé(s), {totals['failed']} en échec, "
            f"{totals['jobs']} tâche(s)."
        )
        return
    stop = threading.Event()

    def on_signal(signum, _frame):
        stop.set()
        signal.signal(signum, signal.SIG_DFL)  # a second Ctrl-C stops at once

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    app = current_app._get_current_object()
    click.echo(
        f"Tâches de fond : en route (base {app.config['SQLALCHEMY_DATABASE_URI'].split('://')[0]})."
    )
    worker.run_worker(app, stop)
    click.echo("Tâches de fond : arrêt.")


@forum_cli.command("backup")
@click.argument("dest", type=click.Path(dir_okay=False))
def backup(dest: str) -> None:
    """Copy the whole database to DEST while the forum runs (SQLite file, pg_dump archive)."""
    from flask import current_app

    from forum import backup as backups

    try:
        click.echo(backups.backup(current_app.config["SQLALCHEMY_DATABASE_URI"], dest))
    except backups.BackupError as exc:
        raise click.ClickException(str(exc)) from None


@forum_cli.command("restore")
@click.argument("src", type=click.Path(dir_okay=False))
def restore(src: str) -> None:
    """Replace the whole database by the backup SRC (stop web and worker first)."""
    from flask import current_app

    from forum import backup as backups

    db.session.remove()
    db.engine.dispose()  # no connection of ours keeps old pages or locks
    try:
        click.echo(backups.restore(current_app.config["SQLALCHEMY_DATABASE_URI"], src))
    except backups.BackupError as exc:
        raise click.ClickException(str(exc)) from None


def register_cli(app: Flask) -> None:
    app.cli.add_command(forum_cli)
