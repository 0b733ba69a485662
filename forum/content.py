"""Markdown -> sanitised HTML, rendered once at write time.

Everything that turns what a member typed into something a browser displays lives here, and
nowhere else:

* :func:`render_markdown` parses CommonMark (plus tables, strikethrough and bare-URL linkifying)
  with raw HTML switched off, then passes the result through nh3 as the final barrier. The HTML
  it returns is stored next to the source and shown as-is, so every change to the rules below
  must bump :data:`RENDER_VERSION` (a CLI command re-renders the stale rows).
* ``@pseudo`` becomes a link to the member's profile (never inside code or another link);
  :func:`mentioned_usernames` lists who a text mentions, for notifications.
* :func:`quote_markdown` builds the Markdown inserted when someone quotes a post.
* :func:`plain_text` flattens stored HTML into a short snippet for previews.

Rules enforced here: headings start at ``<h3>`` so a post never outranks the page title; images
are never loaded (readers' privacy, and the CSP only allows ``img-src 'self'``), they become
links; only ``http``, ``https``, ``mailto`` and relative URLs survive; no ``style``, no event
handler, no class except ``language-*`` on ``<code>``.

Bounded cost: markdown-it-py spends tens of microseconds on every line, list item, emphasis
mark or bracket (and a link label is scanned again for each ``[`` that opens before it), so a
50,000-character body made of nothing else ties a worker up for seconds. :func:`check_source`
(run by :func:`render_markdown`) refuses, with a message saying what to change, the bodies no
real post resembles: too many lines, links, images or brackets, mentions, formatting marks, or
quotes and lists nested too deep. It counts with string methods and regular expressions, in
linear time, before any parsing; ``bench/hostile.py`` measures what is left.

Nothing in this module knows about the database; refusal messages go through Flask-Babel.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Sequence
from urllib.parse import quote, unquote

import nh3
from flask_babel import gettext as _
from markdown_it import MarkdownIt, rules_inline
from markdown_it.rules_core import StateCore
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict

from forum.refusals import Refused

__all__ = [
    "RENDER_VERSION",
    "check_source",
    "escape_markdown",
    "mentioned_usernames",
    "plain_text",
    "quote_markdown",
    "render_markdown",
]

RENDER_VERSION: int = 2
"""Bump whenever the rendering rules change: stored HTML older than this gets re-rendered."""

# Recursion limit of markdown-it (block and inline): deeper nesting is rendered flat or as text.
MAX_NESTING = 20

# Markdown headings "#" and "##" become <h3> and <h4>: the page owns <h1> and <h2>.
HEADING_SHIFT = 2

ALLOWED_TAGS = frozenset(
    {
        "p",
        "br",
        "hr",
        "h3",
        "h4",
        "h5",
        "h6",
        "strong",
        "em",
        "del",
        "code",
        "pre",
        "blockquote",
        "ul",
        "ol",
        "li",
        "a",
        "table",
        "thead",
        "tbody",
        "tr",
        "th",
        "td",
    }
)
ALLOWED_SCHEMES = frozenset({"http", "https", "mailto"})
LINK_REL = "nofollow ugc noopener noreferrer"

# "*": no generic attribute (nh3 would otherwise keep ``lang`` and ``title`` everywhere).
_ATTRIBUTES: dict[str, set[str]] = {"*": set(), "a": {"href"}, "ol": {"start"}, "code": {"class"}}
_LANGUAGE_CLASS_RE = re.compile(r"language-[A-Za-z0-9_+-]+")
_DIGITS_RE = re.compile(r"[0-9]{1,9}")
_SCHEME_RE = re.compile(r"([a-z][a-z0-9+.-]*):")
_BLOCK_TAG_RE = re.compile(
    r"<(?=/?(?:p|br|hr|h[1-6]|li|ul|ol|pre|blockquote|table|thead|tbody|tr|th|td)\b)",
    re.IGNORECASE,
)
_WHITESPACE_RE = re.compile(r"\s+")
# "@pseudo": a username (letters, digits, - _ . inside) not preceded by a word character,
# so an e-mail address is not a mention.
_MENTION_RE = re.compile(r"(?<![\w@/])@([^\W_](?:[\w.-]*[^\W_])?)")
MAX_MENTIONS = 20
# ASCII punctuation: CommonMark lets every one of them be backslash-escaped.
_MARKDOWN_PUNCTUATION_RE = re.compile(r"""([!"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~])""")


def _url_scheme(url: str) -> str | None:
    """The scheme a browser could see in ``url`` (lowercase), or None for a relative URL.

    Deliberately paranoid: entities and percent-escapes are decoded and whitespace and control
    characters removed before looking, so ``java&#x09;script:`` or ``%6Aavascript:`` count as
    ``javascript``. A URL that only *looks* dangerous after decoding is refused too.
    """
    decoded = unquote(html.unescape(url))
    cleaned = "".join(
        ch for ch in decoded if not ch.isspace() and unicodedata.category(ch)[0] not in "CZ"
    ).lower()
    match = _SCHEME_RE.match(cleaned)
    return match.group(1) if match else None


def _is_allowed_url(url: str) -> bool:
    """True for http, https, mailto and relative URLs."""
    scheme = _url_scheme(url)
    return scheme is None or scheme in ALLOWED_SCHEMES


def _attribute_filter(tag: str, attr: str, value: str) -> str | None:
    """Second look at every attribute nh3 kept; returning None drops the attribute."""
    if tag == "a" and attr == "rel":
        return value  # set by nh3 itself from ``link_rel``
    if tag == "a" and attr == "href":
        return value if _is_allowed_url(value) else None
    if tag == "ol" and attr == "start":
        return value if _DIGITS_RE.fullmatch(value) else None
    if tag == "code" and attr == "class":
        return value if _LANGUAGE_CLASS_RE.fullmatch(value) else None
    return None


def _sanitize(html_fragment: str) -> str:
    """The final barrier: whatever markdown-it produced, only the allowed subset comes out."""
    return nh3.clean(
        html_fragment,
        tags=set(ALLOWED_TAGS),
        clean_content_tags={"script", "style"},
        attributes={tag: set(attrs) for tag, attrs in _ATTRIBUTES.items()},
        attribute_filter=_attribute_filter,
        strip_comments=True,
        link_rel=LINK_REL,
        url_schemes=set(ALLOWED_SCHEMES),
    )


def _adjust_tokens(state: StateCore) -> None:
    """Core rule, one pass over the tokens before rendering.

    * ``#`` -> ``<h3>``, ``##`` -> ``<h4>`` ... capped at ``<h6>``;
    * ``~~struck~~`` -> ``<del>`` (markdown-it emits ``<s>``);
    * images inside a link are flagged, so they do not become a nested link;
    * ``@pseudo`` outside links and code becomes a link to the profile (names in ``env``).
    """
    mentions = state.env.setdefault("mentions", []) if isinstance(state.env, dict) else []
    for block in state.tokens:
        if block.type in ("heading_open", "heading_close"):
            block.tag = f"h{min(int(block.tag[1:]) + HEADING_SHIFT, 6)}"
        if block.type != "inline" or not block.children:
            continue
        link_depth = 0
        for token in block.children:
            if token.type in ("s_open", "s_close"):
                token.tag = "del"
            elif token.type == "link_open":
                link_depth += 1
            elif token.type == "link_close":
                link_depth = max(link_depth - 1, 0)
            elif token.type == "image" and link_depth:
                token.meta["in_link"] = True
        block.children = _link_mentions(block.children, mentions)


def _link_mentions(children: list[Token], mentions: list[str]) -> list[Token]:
    """Split text tokens outside links around ``@pseudo`` and wrap each in a profile link."""
    result: list[Token] = []
    link_depth = 0
    for token in children:
        if token.type == "link_open":
            link_depth += 1
        elif token.type == "link_close":
            link_depth = max(link_depth - 1, 0)
        if token.type != "text" or link_depth or "@" not in token.content:
            result.append(token)
            continue
        position = 0
        for match in _MENTION_RE.finditer(token.content):
            name = match.group(1).rstrip(".-")
            if match.start() > position:
                result.append(_text_token(token.content[position : match.start()]))
            link = Token("link_open", "a", 1)
            link.attrSet("href", "/users/" + quote(name))
            result += [link, _text_token("@" + name), Token("link_close", "a", -1)]
            position = match.start() + 1 + len(name)
            if name not in mentions:
                mentions.append(name)
        if position < len(token.content):
            result.append(_text_token(token.content[position:]))
    return result


def _text_token(text: str) -> Token:
    token = Token("text", "", 0)
    token.content = text
    return token


def _render_image(
    self: object, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    """Render rule: an image is never loaded; it becomes a link to it labelled "alt (image)"."""
    token = tokens[idx]
    alt = self.renderInlineAsText(token.children, options, env)  # type: ignore[attr-defined]
    label = html.escape(f"{alt} (image)" if alt else "(image)", quote=False)
    src = token.attrGet("src")
    if token.meta.get("in_link") or not isinstance(src, str) or not src:
        return label
    if not _is_allowed_url(src):
        return html.escape(alt, quote=False)
    return f'<a href="{html.escape(src)}">{label}</a>'


def _needs_closing_bracket(rule):
    """Wrap markdown-it's ``link`` or ``image`` rule: no ``]`` after the ``[``, no link.

    markdown-it scans a link label from each ``[`` to its ``]``, token by token, and when
    it finds none gives up and starts again from the next ``[``: ``![`` repeated 24,000
    times took seconds. The position of the last ``]`` of the inline text, looked up once,
    answers in constant time for every opener after it.
    """

    def rule_with_check(state, silent: bool) -> bool:
        last_close = getattr(state, "forum_last_close", None)
        if last_close is None:
            last_close = state.forum_last_close = state.src.rfind("]")
        if last_close < state.pos:
            return False
        return rule(state, silent)

    return rule_with_check


def _build_parser() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": True, "typographer": False})
    md.enable(["table", "strikethrough", "linkify"])
    md.options["maxNesting"] = MAX_NESTING
    # Stricter than markdown-it's own blacklist: a refused destination leaves the Markdown as
    # plain text instead of producing a link.
    md.validateLink = _is_allowed_url  # type: ignore[method-assign]
    for name in ("link", "image"):
        md.inline.ruler.at(name, _needs_closing_bracket(getattr(rules_inline, name)))
    md.core.ruler.push("forum_adjust_tokens", _adjust_tokens)
    md.add_render_rule("image", _render_image)
    return md


_MD = _build_parser()


# -- bounded cost --------------------------------------------------------------------------

#: Lines with text, outside fenced code (400 lines are a dozen screens).
MAX_LINES = 400
#: Links, images and bare addresses: each ``[`` outside code (every link and image opens
#: with one, and each costs a label scan) plus each address written out of a link.
MAX_LINKS = 100
#: ``@pseudo`` outside code, repeats included (the first :data:`MAX_MENTIONS` different
#: ones are notified).
MAX_MENTIONS_PER_POST = 50
#: Formatting marks outside code: ``* _ ~ < & \`` and backquotes.
MAX_MARKS = 2_000
#: Quotes and lists inside one another.
MAX_DEPTH = 10

_FENCE_RE = re.compile(r" {0,3}(`{3,}|~{3,})")
_FENCE_STARTS = frozenset(" `~")
# The containers that open a line: quote markers, list markers and the indentation before them.
_CONTAINERS_RE = re.compile(r"(?:[ \t]*+(?:>|[-+*](?=[ \t])|[0-9]{1,9}[.)](?=[ \t])))+")
_CONTAINER_RE = re.compile(r">|[-+*]|[0-9]{1,9}[.)]")
# An address written out of a link: not right after a link's "](" (already counted by its "[").
_ADDRESS_RE = re.compile(
    r"(?<!\]\()(?<![a-z0-9+.-])(?:[a-z][a-z0-9+.-]{1,31}://|www\.)", re.IGNORECASE
)
_MARKS = "*_~<&\\`"


def _depth(line: str) -> int:
    """How many quotes and lists ``line`` sits in (its indentation counts as list levels)."""
    match = _CONTAINERS_RE.match(line)
    if not match:
        return 0
    prefix = match.group(0)
    markers = len(_CONTAINER_RE.findall(prefix))
    indent = len(prefix) - len(prefix.lstrip(" \t"))
    return markers + indent // 2


def check_source(source: str) -> None:
    """Refuse a body no real post resembles, before any parsing; linear in its length.

    Fenced code blocks are left out of the counts: their content is not parsed as
    Markdown, and costs little.

    :raise Refused: with what to change, naming the count and the limit.
    """
    text: list[str] = []
    depth, fence, lines = 0, "", 0
    for line in source.splitlines():
        opening = _FENCE_RE.match(line) if line[:1] in _FENCE_STARTS else None
        if fence:
            if opening and opening.group(1)[0] == fence[0] and len(opening.group(1)) >= len(fence):
                fence = ""
            continue
        if opening:
            fence = opening.group(1)
            continue
        if line.strip():
            lines += 1
            if lines > MAX_LINES:
                break  # refused below: no need to read further
        depth = max(depth, _depth(line))
        text.append(line)
    if lines > MAX_LINES:
        raise Refused(
            _(
                "Le message dépasse la limite de %(limit)d lignes de texte. "
                "Regroupez des lignes ou partagez le texte en plusieurs messages.",
                limit=MAX_LINES,
            )
        )
    if depth > MAX_DEPTH:
        raise Refused(
            _(
                "Le message imbrique %(count)d niveaux de citations ou de listes ; "
                "la limite est de %(limit)d. Citez seulement le passage auquel vous répondez.",
                count=depth,
                limit=MAX_DEPTH,
            )
        )
    prose = "\n".join(text)
    count = prose.count("[") + len(_ADDRESS_RE.findall(prose))
    if count > MAX_LINKS:
        raise Refused(
            _(
                "Le message contient %(count)d liens, images, adresses web ou crochets [ ] ; "
                "la limite est de %(limit)d. Gardez les plus utiles.",
                count=count,
                limit=MAX_LINKS,
            )
        )
    count = sum(1 for _match in _MENTION_RE.finditer(prose))
    if count > MAX_MENTIONS_PER_POST:
        raise Refused(
            _(
                "Le message contient %(count)d mentions @pseudo ; la limite est de %(limit)d. "
                "Mentionnez seulement les personnes concernées.",
                count=count,
                limit=MAX_MENTIONS_PER_POST,
            )
        )
    count = sum(prose.count(mark) for mark in _MARKS)
    if count > MAX_MARKS:
        raise Refused(
            _(
                "Le message contient %(count)d signes de mise en forme (* _ ~ < & \\ `) ; "
                "la limite est de %(limit)d. Placez le code entre deux lignes ``` "
                "ou allégez la mise en forme.",
                count=count,
                limit=MAX_MARKS,
            )
        )


def render_markdown(source: str, *, checked: bool = True) -> str:
    """Render a member's Markdown to the sanitised HTML that gets stored and displayed.

    ``checked=False`` skips :func:`check_source`: for re-rendering bodies stored before
    a limit existed, never for new input.

    :raise Refused: the body goes beyond a limit of :func:`check_source`.
    """
    if checked:
        check_source(source)
    return _sanitize(_MD.render(source))


def mentioned_usernames(source: str) -> list[str]:
    """The pseudos ``source`` mentions as ``@pseudo`` (outside code and links), at most 20."""
    if "@" not in source and "&" not in source:
        return []  # no "@", not even as an entity (&#64;): nothing to parse for
    env: dict = {}
    _MD.parse(source, env)
    return env.get("mentions", [])[:MAX_MENTIONS]


def escape_markdown(text: str) -> str:
    """Backslash-escape every ASCII punctuation character so ``text`` stays literal."""
    return _MARKDOWN_PUNCTUATION_RE.sub(r"\\\1", text)


def quote_markdown(author: str, source: str) -> str:
    """Markdown quoting ``source`` with a French attribution line, ready to be replied under."""
    name = escape_markdown(_WHITESPACE_RE.sub(" ", author).strip())
    lines = [f"> **{name}** a écrit :", ">"]
    for line in source.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        lines.append(f"> {line}" if line.strip() else ">")
    while len(lines) > 2 and lines[-1] == ">":
        lines.pop()
    return "\n".join(lines) + "\n\n"


def plain_text(html_fragment: str, limit: int = 200) -> str:
    """Text of ``html_fragment`` on one line, cut to at most ``limit`` characters ("…" included).

    The cut falls on a word boundary when there is one; a single word longer than the limit is
    cut mid-word.
    """
    if limit < 1:
        raise ValueError("limit must be at least 1")
    # Block boundaries become spaces, otherwise "<p>a</p><p>b</p>" would read "ab".
    spaced = _BLOCK_TAG_RE.sub(" <", html_fragment)
    stripped = nh3.clean(spaced, tags=set(), clean_content_tags={"script", "style"})
    # Runs of whitespace become one space (str.split() knows the same whitespace as the
    # regular expressions' \s, and is about ten times faster).
    text = " ".join(html.unescape(stripped).split())
    if len(text) <= limit:
        return text
    budget = limit - 1  # room for the ellipsis
    cut = text[:budget]
    if not text[budget].isspace():
        space = cut.rfind(" ")
        if space > 0:
            cut = cut[:space]
    return cut.rstrip(" ,;:") + "…"
