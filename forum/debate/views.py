"""The debate's pages: the map, reactions, polls and the synthesis."""

from __future__ import annotations

from datetime import datetime

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy.orm import joinedload

from forum.debate import polls, queries, services, synthesis
from forum.debate.forms import ConfirmForm, PollForm, SynthesisForm
from forum.debate.models import POSITION_LABELS, REACTION_LABELS, Position, ReactionKind
from forum.discussions.models import Post, Thread
from forum.extensions import get_or_none
from forum.forms import form_page
from forum.moderation import limits
from forum.permissions import Action, ThreadRights, can, ensure
from forum.refusals import Refused
from forum.seminars.services import from_paris

bp = Blueprint("debate", __name__)


def _thread_or_404(thread_id: int) -> Thread:
    thread = get_or_none(Thread, thread_id)
    if thread is None or thread.merged_into_id is not None:
        abort(404)
    ensure(current_user, Action.THREAD_VIEW, thread)
    return thread


def _post_or_404(post_id: int) -> Post:
    post = get_or_none(Post, post_id, options=[joinedload(Post.thread)])
    if post is None:
        abort(404)
    ensure(current_user, Action.THREAD_VIEW, post.thread)
    return post


def _refused(exc: Refused):
    abort(400, description=exc.message)


# -- the debate map ---------------------------------------------------------------------------


@bp.route("/threads/<int:thread_id>/map")
def thread_map(thread_id: int):
    """Pour and contre side by side for each post that drew positions; constant queries."""
    thread = _thread_or_404(thread_id)
    only = request.args.get("position")
    if only not in {position.value for position in Position}:
        only = None
    rights = ThreadRights(current_user, thread)
    return render_template(
        "debate/map.html",
        thread=thread,
        sections=queries.debate_map(thread, current_user, rights),
        only=only,
        labels=POSITION_LABELS,
    )


# -- reactions --------------------------------------------------------------------------------


@bp.route("/posts/<int:post_id>/react", methods=["POST"])
@limits.react
@login_required
def react(post_id: int):
    """Add the reaction (field ``reaction``) or take it back; back to the post."""
    post = _post_or_404(post_id)
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        added = services.toggle_reaction(current_user, post, request.form.get("reaction", ""))
    except Refused as exc:
        _refused(exc)
    flash(_("Réaction enregistrée.") if added else _("Réaction retirée."), "success")
    return redirect(url_for("discussions.permalink", post_id=post_id))


@bp.route("/posts/<int:post_id>/reactions")
def reactions(post_id: int):
    post = _post_or_404(post_id)
    if post.is_deleted or not can(current_user, Action.POST_READ_HIDDEN, post):
        abort(404)
    rows = services.reactions_of(post)
    by_kind = {kind.value: [r.user for r in rows if r.kind == kind.value] for kind in ReactionKind}
    return render_template(
        "debate/reactions.html", post=post, by_kind=by_kind, labels=REACTION_LABELS
    )


# -- polls ------------------------------------------------------------------------------------


def _poll_or_404(poll_id: int):
    poll = polls.poll_or_none(poll_id) if poll_id > 0 else None
    if poll is None or poll.thread.merged_into_id is not None:
        abort(404)
    ensure(current_user, Action.THREAD_VIEW, poll.thread)
    return poll


def _closing_date(value: str | None) -> datetime | None:
    value = (value or "").strip()
    if not value:
        return None
    try:
        return from_paris(datetime.fromisoformat(value))
    except ValueError:
        raise Refused(
            _("Date de clôture illisible : utilisez le format AAAA-MM-JJTHH:MM.")
        ) from None


@bp.route("/threads/<int:thread_id>/poll/new", methods=["GET", "POST"])
@login_required
def new_poll(thread_id: int):
    thread = _thread_or_404(thread_id)
    ensure(current_user, Action.POLL_CREATE, thread)
    form = PollForm()
    if form.validate_on_submit():
        try:
            poll = services.create_poll(
                current_user,
                thread,
                question=form.question.data,
                options=form.options.data,
                multiple=form.multiple.data,
                closes_at=_closing_date(form.closes_at.data),
                results=form.results.data,
            )
        except Refused as exc:
            form.form_errors.append(exc.message)
        else:
            flash(_("Sondage ajouté au fil."), "success")
            return redirect(url_for(".poll", poll_id=poll.id))
    return form_page("debate/poll_form.html", form, thread=thread)


def _shows_results(poll, results) -> bool:
    return polls.shows_results(poll, results, current_user)


def _poll_page(poll, error: str | None = None):
    results = polls.poll_results(poll, current_user)
    html = render_template(
        "debate/poll.html",
        poll=poll,
        thread=poll.thread,
        results=results,
        show_results=_shows_results(poll, results),
        error=error,
    )
    return html, 400 if error else 200


@bp.route("/polls/<int:poll_id>")
def poll(poll_id: int):
    return _poll_page(_poll_or_404(poll_id))


@bp.route("/polls/<int:poll_id>/vote", methods=["POST"])
@limits.vote
@login_required
def vote(poll_id: int):
    """``option``: one id, repeated for a multiple-choice poll."""
    poll = _poll_or_404(poll_id)
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        chosen = [int(value) for value in request.form.getlist("option")]
    except ValueError:
        chosen = [-1]
    try:
        services.vote(current_user, poll, chosen)
    except Refused as exc:
        return _poll_page(poll, exc.message)
    flash(_("Votre vote est enregistré. Vous pouvez le changer jusqu'à la clôture."), "success")
    if request.form.get("from") == "thread":  # voted on the thread page: back there
        return redirect(
            url_for("discussions.thread", thread_id=poll.thread_id, _anchor=f"poll-{poll.id}")
        )
    return redirect(url_for(".poll", poll_id=poll.id))


@bp.route("/polls/<int:poll_id>/close", methods=["POST"])
@login_required
def close_poll(poll_id: int):
    poll = _poll_or_404(poll_id)
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    services.close_poll(current_user, poll)
    flash(_("Sondage clos."), "success")
    return redirect(url_for(".poll", poll_id=poll.id))


@bp.route("/polls/<int:poll_id>.csv")
@login_required
def poll_csv(poll_id: int):
    poll = _poll_or_404(poll_id)
    body = services.results_csv(current_user, poll)
    return Response(
        body,
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="sondage-{poll.id}.csv"'},
    )


# -- synthesis --------------------------------------------------------------------------------


def _synthesis_or_404(thread: Thread):
    found = synthesis.synthesis_of(thread)
    if found is None or not can(current_user, Action.SYNTHESIS_VIEW, found):
        abort(404)
    return found


@bp.route("/threads/<int:thread_id>/synthesis")
def synthesis_page(thread_id: int):
    thread = _thread_or_404(thread_id)
    found = _synthesis_or_404(thread)
    approvals = synthesis.approvals_of(found)
    return render_template(
        "debate/synthesis.html",
        thread=thread,
        synthesis=found,
        sections=synthesis.render_for(found, current_user),
        titles=synthesis.section_titles(),
        approvals=approvals,
        approved=current_user.is_authenticated
        and any(a.user_id == current_user.id for a in approvals),
    )


@bp.route("/threads/<int:thread_id>/synthesis/edit", methods=["GET", "POST"])
@login_required
def edit_synthesis(thread_id: int):
    thread = _thread_or_404(thread_id)
    ensure(current_user, Action.SYNTHESIS_EDIT, thread)
    existing = synthesis.synthesis_of(thread)
    data = {name: getattr(existing, name) for name in synthesis.SECTIONS} if existing else {}
    form = SynthesisForm(data=data)
    if form.validate_on_submit():
        try:
            synthesis.save(
                current_user,
                thread,
                **{name: getattr(form, name).data or "" for name in synthesis.SECTIONS},
            )
        except Refused as exc:
            form.form_errors.append(exc.message)
        else:
            flash(_("Synthèse enregistrée."), "success")
            return redirect(url_for(".synthesis_page", thread_id=thread.id))
    return form_page(
        "debate/synthesis_form.html",
        form,
        thread=thread,
        synthesis=existing,
        citable=synthesis.citable_posts(thread, current_user),
    )


@bp.route("/threads/<int:thread_id>/synthesis/approve", methods=["POST"])
@login_required
def approve_synthesis(thread_id: int):
    thread = _thread_or_404(thread_id)
    found = _synthesis_or_404(thread)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    synthesis.approve(current_user, found)
    flash(_("Merci : votre approbation est enregistrée."), "success")
    return redirect(url_for(".synthesis_page", thread_id=thread.id))


@bp.route("/threads/<int:thread_id>/synthesis/publish", methods=["POST"])
@login_required
def publish_synthesis(thread_id: int):
    thread = _thread_or_404(thread_id)
    found = _synthesis_or_404(thread)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    synthesis.publish(current_user, found)
    flash(_("Synthèse publiée : elle figure en tête du fil."), "success")
    return redirect(url_for("discussions.thread", thread_id=thread.id))


@bp.route("/threads/<int:thread_id>/synthesis.md")
def synthesis_markdown(thread_id: int):
    thread = _thread_or_404(thread_id)
    found = _synthesis_or_404(thread)
    return Response(
        synthesis.markdown_export(found),
        mimetype="text/markdown",
        headers={"Content-Disposition": f'inline; filename="synthese-fil-{thread.id}.md"'},
    )


@bp.route("/threads/<int:thread_id>/synthesis/history")
def synthesis_history(thread_id: int):
    thread = _thread_or_404(thread_id)
    found = _synthesis_or_404(thread)
    return render_template(
        "debate/synthesis_history.html",
        thread=thread,
        synthesis=found,
        revisions=synthesis.revisions_of(found),
        titles=synthesis.section_titles(),
    )
