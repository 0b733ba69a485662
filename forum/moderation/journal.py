"""Reading the moderation log: each entry told as a sentence, with links to what it concerns.

"a masqué le message 123 de alice", "a déplacé le fil … de Urbain vers Services publics",
"a réduit au silence bob pour 7 jours". Every action code the services write
(:data:`SENTENCES`) has its sentence; a code without one (written by an older version)
is shown as the code itself. The actor is shown beside the sentence, the reason after it.
A page of entries costs two queries whatever its length: the threads and the themes that
the entries name (:func:`describe`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask import url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from markupsafe import Markup
from sqlalchemy import select

from forum.accounts.models import ROLE_LABELS, Role
from forum.discussions.models import Theme, Thread
from forum.extensions import db
from forum.moderation.models import WORD_ACTION_LABELS, LogEntry, WordAction


@dataclass
class Context:
    """What the sentences of one page may name: threads and themes, by id."""

    threads: dict[int, Thread]
    themes: dict[int, Theme]


@dataclass
class Told:
    entry: LogEntry
    #: The act as a sentence, starting with its verb ("a masqué le message …").
    sentence: Markup


def _link(url: str, text) -> Markup:
    return Markup('<a href="{}">{}</a>').format(url, text)


def _post(entry: LogEntry, _ctx: Context) -> Markup:
    if entry.post_id is None:
        return Markup.escape(_("un message"))
    return _link(
        url_for("discussions.permalink", post_id=entry.post_id),
        _("le message %(number)s", number=entry.post_id),
    )


def _user(entry: LogEntry, _ctx: Context) -> Markup:
    if entry.user is None:
        return Markup.escape(_("un compte disparu"))
    return _link(url_for("accounts.profile", username=entry.user.username), entry.user.username)


def _thread(thread_id, ctx: Context, fallback: str = "") -> Markup:
    thread = ctx.threads.get(thread_id) if isinstance(thread_id, int) else None
    if thread is None:
        return Markup("« {} »").format(fallback) if fallback else Markup.escape(_("un fil disparu"))
    return _link(
        url_for("discussions.thread", thread_id=thread.id), Markup("« {} »").format(thread.title)
    )


def _theme(theme_id, ctx: Context) -> Markup:
    theme = ctx.themes.get(theme_id) if isinstance(theme_id, int) else None
    if theme is None:
        return Markup.escape(_("un thème disparu"))
    return _link(url_for("discussions.theme", slug=theme.slug), theme.name)


def _say(message, **parts) -> Markup:
    """``message`` (translated, or lazily) with its parts: Markup kept, text escaped."""
    text = Markup.escape(str(message))
    return text % parts if parts else text


def _post_act(message) -> Callable[[LogEntry, Context], Markup]:
    """An act on a post: ``message`` names %(post)s and %(user)s, its author."""
    return lambda entry, ctx: _say(message, post=_post(entry, ctx), user=_user(entry, ctx))


def _thread_act(message) -> Callable[[LogEntry, Context], Markup]:
    return lambda entry, ctx: _say(message, thread=_thread(entry.thread_id, ctx))


def _user_act(message) -> Callable[[LogEntry, Context], Markup]:
    return lambda entry, ctx: _say(message, user=_user(entry, ctx))


def _move(entry: LogEntry, ctx: Context) -> Markup:
    details = entry.details_dict
    return _say(
        _("a déplacé le fil %(thread)s de %(source)s vers %(target)s"),
        thread=_thread(entry.thread_id, ctx),
        source=_theme(details.get("from_theme"), ctx),
        target=_theme(details.get("to_theme"), ctx),
    )


def _merge(entry: LogEntry, ctx: Context) -> Markup:
    details = entry.details_dict
    return _say(
        _("a fusionné le fil « %(title)s » de %(user)s dans le fil %(into)s"),
        title=details.get("from_title") or "",
        user=_user(entry, ctx),
        into=_thread(details.get("into_thread"), ctx),
    )


def _split(entry: LogEntry, ctx: Context) -> Markup:
    return _say(
        _("a détaché %(post)s de %(user)s et ses réponses en un nouveau fil, %(new)s"),
        post=_post(entry, ctx),
        user=_user(entry, ctx),
        new=_thread(entry.details_dict.get("new_thread"), ctx),
    )


def _role_label(role) -> str:
    try:
        return str(ROLE_LABELS[Role(role)])
    except ValueError:
        return str(role)


def _set_role(entry: LogEntry, ctx: Context) -> Markup:
    after = entry.details_dict.get("after") or {}
    themes = after.get("themes") or []
    if themes:
        return _say(
            _("a donné à %(user)s le rôle %(role)s pour les thèmes %(themes)s"),
            user=_user(entry, ctx),
            role=_role_label(after.get("role")),
            themes=", ".join(themes),
        )
    return _say(
        _("a donné à %(user)s le rôle %(role)s"),
        user=_user(entry, ctx),
        role=_role_label(after.get("role")),
    )


def _remove_theme(entry: LogEntry, ctx: Context) -> Markup:
    return _say(
        _("a retiré le thème %(theme)s du périmètre de modération de %(user)s"),
        theme=_theme(entry.theme_id, ctx),
        user=_user(entry, ctx),
    )


def _for_days(silence: bool) -> Callable[[LogEntry, Context], Markup]:
    def tell(entry: LogEntry, ctx: Context) -> Markup:
        days = entry.details_dict.get("days")
        if not isinstance(days, int) or days <= 0:
            message = _("a réduit au silence %(user)s") if silence else _("a suspendu %(user)s")
            return _say(message, user=_user(entry, ctx))
        # ngettext fills %(num)d and gives %(user)s back as it is, for _say to fill.
        if silence:
            message = ngettext(
                "a réduit au silence %(user)s pour %(num)d jour",
                "a réduit au silence %(user)s pour %(num)d jours",
                days,
                user="%(user)s",
            )
        else:
            message = ngettext(
                "a suspendu %(user)s pour %(num)d jour",
                "a suspendu %(user)s pour %(num)d jours",
                days,
                user="%(user)s",
            )
        return _say(message, user=_user(entry, ctx))

    return tell


def _report(upheld: bool) -> Callable[[LogEntry, Context], Markup]:
    def tell(entry: LogEntry, ctx: Context) -> Markup:
        if entry.post_id is not None:
            message = (
                _("a donné suite aux signalements sur %(post)s de %(user)s")
                if upheld
                else _("a classé sans suite les signalements sur %(post)s de %(user)s")
            )
            return _say(message, post=_post(entry, ctx), user=_user(entry, ctx))
        message = (
            _("a donné suite aux signalements visant %(user)s")
            if upheld
            else _("a classé sans suite les signalements visant %(user)s")
        )
        return _say(message, user=_user(entry, ctx))

    return tell


def _word(added: bool) -> Callable[[LogEntry, Context], Markup]:
    def tell(entry: LogEntry, _ctx: Context) -> Markup:
        details = entry.details_dict
        try:
            action = str(WORD_ACTION_LABELS[WordAction(details.get("word_action"))])
        except ValueError:
            action = str(details.get("word_action") or "")
        message = (
            _("a ajouté « %(word)s » aux mots surveillés (%(action)s)")
            if added
            else _("a retiré « %(word)s » des mots surveillés (%(action)s)")
        )
        return _say(message, word=details.get("word") or "", action=action)

    return tell


#: Every action code the services write, and how to tell it.
def _organisation(entry: LogEntry, _ctx: Context, key: str = "organisation") -> Markup:
    details = entry.details_dict
    slug, name = details.get(key), details.get("name") if key == "organisation" else None
    if not slug:
        return Markup.escape(_("une organisation"))
    return _link(url_for("directory.organisation", slug=slug), name or slug)


def _organisation_act(message) -> Callable[[LogEntry, Context], Markup]:
    """An act on an organisation: ``message`` names %(organisation)s (and %(user)s)."""
    return lambda entry, ctx: _say(
        message, organisation=_organisation(entry, ctx), user=_user(entry, ctx)
    )


def _org_merge(entry: LogEntry, ctx: Context) -> Markup:
    return _say(
        _l("a fusionné l'organisation %(organisation)s dans %(into)s"),
        organisation=_organisation(entry, ctx),
        into=_organisation(entry, ctx, key="into"),
    )


def _contact_act(message) -> Callable[[LogEntry, Context], Markup]:
    def tell(entry: LogEntry, _ctx: Context) -> Markup:
        number = entry.details_dict.get("contact_request")
        request = (
            _link(
                url_for("contacts.contact", contact_id=number),
                _("la demande de mise en relation %(number)s", number=number),
            )
            if isinstance(number, int)
            else Markup.escape(_("une demande de mise en relation"))
        )
        outcome = entry.details_dict.get("outcome") or ""
        return _say(message, request=request, outcome=outcome)

    return tell


def _message_act(message) -> Callable[[LogEntry, Context], Markup]:
    """Acts on a private message: never a link into the conversation (it is private)."""
    return lambda entry, ctx: _say(
        message, number=entry.details_dict.get("message_id", "?"), user=_user(entry, ctx)
    )


def _poll_close(entry: LogEntry, ctx: Context) -> Markup:
    return _say(
        _l("a clos le sondage « %(question)s » du fil %(thread)s"),
        question=entry.details_dict.get("question", ""),
        thread=_thread(entry.thread_id, ctx),
    )


def _erase(entry: LogEntry, ctx: Context) -> Markup:
    with_posts = entry.details_dict.get("with_posts")
    message = (
        _l("a effacé le compte %(user)s et ses messages")
        if with_posts
        else _l("a effacé le compte %(user)s, ses messages restant sous un nom anonyme")
    )
    return _say(message, user=_user(entry, ctx))


SENTENCES: dict[str, Callable[[LogEntry, Context], Markup]] = {
    "post:hide": _post_act(_l("a masqué %(post)s de %(user)s")),
    "post:auto-hide": _post_act(_l("a masqué %(post)s de %(user)s, signalé par plusieurs membres")),
    "post:restore": _post_act(_l("a rétabli %(post)s de %(user)s")),
    "post:approve": _post_act(_l("a publié %(post)s de %(user)s, qui attendait une validation")),
    "post:reject": _post_act(_l("a refusé %(post)s de %(user)s, qui attendait une validation")),
    "post:edit": _post_act(_l("a modifié %(post)s de %(user)s")),
    "post:split": _split,
    "thread:lock": _thread_act(_l("a verrouillé le fil %(thread)s")),
    "thread:unlock": _thread_act(_l("a déverrouillé le fil %(thread)s")),
    "thread:pin": _thread_act(_l("a épinglé le fil %(thread)s")),
    "thread:unpin": _thread_act(_l("a désépinglé le fil %(thread)s")),
    "thread:move": _move,
    "thread:merge": _merge,
    "user:set-role": _set_role,
    "user:remove-theme": _remove_theme,
    "user:warn": _user_act(_l("a adressé un avertissement à %(user)s")),
    "user:silence": _for_days(silence=True),
    "user:suspend": _for_days(silence=False),
    "user:ban": _user_act(_l("a banni %(user)s")),
    "user:lift": _user_act(_l("a levé la sanction en cours de %(user)s")),
    "user:note": _user_act(_l("a ajouté une note privée sur %(user)s")),
    "report:dismiss": _report(upheld=False),
    "report:uphold": _report(upheld=True),
    "word:add": _word(added=True),
    "word:remove": _word(added=False),
    "user:erase": _erase,
    "organisation:verify": _organisation_act(_l("a vérifié l'organisation %(organisation)s")),
    "organisation:unverify": _organisation_act(
        _l("a retiré la vérification de l'organisation %(organisation)s")
    ),
    "organisation:merge": _org_merge,
    "organisation:orphaned": _organisation_act(
        _l(
            "a constaté que l'organisation %(organisation)s n'a plus de représentant·e après "
            "l'effacement du compte %(user)s : confiez-la à un·e de ses membres"
        )
    ),
    "mediator:set": _user_act(_l("a nommé %(user)s médiateur·rice")),
    "mediator:unset": _user_act(_l("a retiré à %(user)s le rôle de médiateur·rice")),
    "contact:take": _contact_act(_l("a pris en charge la médiation de %(request)s")),
    "contact:close": _contact_act(_l("a clos la médiation de %(request)s (issue : %(outcome)s)")),
    "message:view-context": _message_act(
        _l(
            "a lu le message privé %(number)s de %(user)s et son contexte, à la suite d'un signalement"
        )
    ),
    "message:hide": _message_act(_l("a masqué le message privé %(number)s de %(user)s")),
    "poll:close": _poll_close,
}


def _ids(values) -> set[int]:
    return {value for value in values if isinstance(value, int)}


def describe(entries: list[LogEntry]) -> list[Told]:
    """The entries of one page as sentences: two queries (threads, themes), none if empty."""
    details = [entry.details_dict for entry in entries]
    thread_ids = _ids(entry.thread_id for entry in entries) | _ids(
        d.get(key) for d in details for key in ("into_thread", "new_thread")
    )
    theme_ids = _ids(entry.theme_id for entry in entries) | _ids(
        d.get(key) for d in details for key in ("from_theme", "to_theme")
    )
    ctx = Context(threads={}, themes={})
    if thread_ids:
        rows = db.session.execute(select(Thread).where(Thread.id.in_(thread_ids))).scalars()
        ctx.threads = {thread.id: thread for thread in rows}
    if theme_ids:
        rows = db.session.execute(select(Theme).where(Theme.id.in_(theme_ids))).scalars()
        ctx.themes = {theme.id: theme for theme in rows}
    told = []
    for entry in entries:
        tell = SENTENCES.get(entry.action)
        sentence = tell(entry, ctx) if tell else Markup("<code>{}</code>").format(entry.action)
        told.append(Told(entry=entry, sentence=sentence))
    return told
