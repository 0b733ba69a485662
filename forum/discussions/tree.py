"""Reading reply trees: one page of a thread or of a branch, in one ordered query.

A *view* of a tree is rooted at a post R (the opening post for the thread
page) and shows R's descendants down to ``R.depth + max_depth``; a post at
that depth with replies links to the branch page rooted at it, which goes
``max_depth`` levels further. A view holds at most ``per_page`` posts in
depth-first order; later pages carry on where the previous one stopped, so a
thread of 2,000 posts costs the same to open as one of 200. Posts whose parent
is on an earlier page start the page as roots of their own ("en réponse à").
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

from sqlalchemy import Select, bindparam, func, select
from sqlalchemy.orm import joinedload

from forum.accounts.models import User
from forum.discussions.models import SEGMENT_WIDTH, Post, branch_upper_bound
from forum.extensions import db
from forum.pagination import Page, clamp


@dataclass(frozen=True)
class Root:
    """Where a view starts: a post, or just its place (the thread page needs no query)."""

    thread_id: int
    path: str
    depth: int


def thread_root(thread_id: int) -> Root:
    return Root(thread_id=thread_id, path="", depth=0)


@dataclass(slots=True)
class Node:
    post: PostRow
    children: list[Node] = field(default_factory=list)
    #: The post has replies deeper than this view shows: link to its branch page.
    continues: bool = False
    #: The parent is not on this page (an earlier page, or above a branch root).
    orphan: bool = False


def view_root_depth(post: Post, max_depth: int) -> int:
    """Depth of the root of the view that shows ``post`` (0: the thread page)."""
    return 0 if post.depth <= max_depth else max_depth * ((post.depth - 1) // max_depth)


def _view_filter(stmt: Select, branch: bool) -> Select:
    """``stmt`` restricted to the posts of a view, its values bound by :func:`_view_params`."""
    stmt = stmt.where(
        Post.thread_id == bindparam("thread_id"), Post.depth <= bindparam("last_depth")
    )
    if branch:
        stmt = stmt.where(Post.path >= bindparam("path"), Post.path < bindparam("upper"))
    return stmt


def _view_params(root: Post | Root, max_depth: int) -> dict:
    params = {"thread_id": root.thread_id, "last_depth": root.depth + max_depth}
    if root.path:
        params.update(path=root.path, upper=branch_upper_bound(root.path))
    return params


@functools.cache
def _view_count(branch: bool) -> Select:
    return _view_filter(select(func.count()), branch)


@functools.cache
def _view_page(branch: bool) -> Select:
    """A page of a view's posts: built once, as building it cost a tenth of the page's
    statements' time."""
    return (
        _view_filter(_ROWS, branch)
        .order_by(Post.path)
        .limit(bindparam("limit"))
        .offset(bindparam("offset"))
    )


def page_of(post: Post, root: Post | Root, max_depth: int, per_page: int) -> int:
    """The page of the view rooted at ``root`` on which ``post`` stands."""
    before = db.session.execute(
        _view_count(bool(root.path)).where(Post.path < post.path),
        _view_params(root, max_depth),
    ).scalar_one()
    return before // per_page + 1


class Author:
    """Of a post's author, what a page of the tree and its permission checks read."""

    __slots__ = ("id", "role", "username")

    def __init__(self, id: int, username: str, role: str) -> None:
        self.id, self.username, self.role = id, username, role


class PostRow:
    """A post as a page of the tree shows it, read as a row rather than built as an ORM
    object: its columns (not its Markdown source: the page shows its HTML) as attributes,
    its ``author`` an :class:`Author`, and :class:`~forum.discussions.models.Post`'s
    properties. What the templates, the permission checks and the debate read of a
    post; building 500 ORM objects and their authors took a fifth of a page's time.
    Nothing here is tracked by the session: the page only reads them.
    """

    author: Author
    is_deleted = property(Post.is_deleted.fget)
    is_hidden = property(Post.is_hidden.fget)
    is_pending = property(Post.is_pending.fget)
    is_opening = property(Post.is_opening.fget)


#: The columns of a page's posts, and of their authors what :class:`Author` holds.
_SHOWN = [column for column in Post.__table__.c if column.key != "body_source"]
_NAMES = [column.key for column in _SHOWN]
_ROWS = select(*_SHOWN, User.username, User.role).join(User, User.id == Post.author_id)


def _rows(stmt: Select, params: dict) -> list[PostRow]:
    posts = []
    width = len(_NAMES)
    # Plain rows through the session's connection (the ORM's handling of 500 rows costs
    # a quarter of reading them), fetched at once rather than one by one.
    for row in db.session.connection().execute(stmt, params).all():
        post = PostRow()
        # The row's first ``width`` values are the post's columns, then its author's.
        post.__dict__.update(zip(_NAMES, row, strict=False))
        post.author = Author(post.author_id, row[width], row[width + 1])
        posts.append(post)
    return posts


def load_view(
    root: Post | Root, page: int, *, max_depth: int, per_page: int, size_hint: int | None = None
) -> tuple[Page, list[Node]]:
    """One page of the view rooted at ``root``: the page and its forest of nodes.

    ``size_hint`` is an upper bound of the view's size (the thread's post count):
    when it fits on one page the count query is skipped.
    """
    branch, params = bool(root.path), _view_params(root, max_depth)
    if size_hint is not None and size_hint <= per_page:
        total, page = size_hint, 1
    else:
        total = db.session.execute(_view_count(branch), params).scalar_one()
        page = clamp(page, total, per_page)
    posts = _rows(
        _view_page(branch), {**params, "limit": per_page, "offset": (page - 1) * per_page}
    )
    if size_hint is not None and size_hint <= per_page:
        total = len(posts)
    return Page(items=posts, number=page, per_page=per_page, total=total), build_forest(
        posts, root.depth + max_depth
    )


def build_forest(posts: list[PostRow], last_depth: int) -> list[Node]:
    """Nest depth-first ``posts`` into nodes; ``last_depth`` is the deepest level shown."""
    nodes: dict[int, Node] = {}
    roots: list[Node] = []
    for post in posts:
        node = Node(post, continues=post.depth == last_depth and post.child_count > 0)
        nodes[post.id] = node
        parent = nodes.get(post.parent_id) if post.parent_id else None
        if parent is None:
            node.orphan = post.parent_id is not None
            roots.append(node)
        else:
            parent.children.append(node)
    return roots


def reading_order(forest: list[Node], shown) -> list[tuple[Node, int]]:
    """The nodes of ``forest`` in reading order, those whose post is ``shown`` (with their
    replies), each with the number of reply lists that end after it.

    A page writes its posts one after the other, opening a post's list of replies after
    it and closing each list after its last post: written recursively, each post's
    markup would be copied again into every level above it.
    """
    order: list[list] = []
    _visit(forest, shown, order)
    return order


def _visit(nodes: list[Node], shown, order: list[list]) -> None:
    # Not a closure: a nested function that calls itself is a reference cycle, which
    # would keep the page's nodes and posts alive until the next garbage collection.
    for node in nodes:
        if shown(node.post):
            order.append([node, 0])
            if node.children:
                _visit(node.children, shown, order)
                order[-1][1] += 1


def ancestors(post: Post) -> list[Post]:
    """The posts above ``post``, from the opening post down, in one query."""
    if not post.path:
        return []
    prefixes = [post.path[:end] for end in range(0, len(post.path), SEGMENT_WIDTH)]
    return list(
        db.session.execute(
            select(Post)
            .options(joinedload(Post.author))
            .where(Post.thread_id == post.thread_id, Post.path.in_(prefixes))
            .order_by(Post.path)
        ).scalars()
    )
