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

Nothing in this module knows about Flask or the database.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Sequence
from urllib.parse import quote, unquote

import nh3
from markdown_it import MarkdownIt
from markdown_it.rules_core import StateCore
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict

__all__ = [
    "RENDER_VERSION",
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


def _build_parser() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": True, "typographer": False})
    md.enable(["table", "strikethrough", "linkify"])
    md.options["maxNesting"] = MAX_NESTING
    # Stricter than markdown-it's own blacklist: a refused destination leaves the Markdown as
    # plain text instead of producing a link.
    md.validateLink = _is_allowed_url  # type: ignore[method-assign]
    md.core.ruler.push("forum_adjust_tokens", _adjust_tokens)
    md.add_render_rule("image", _render_image)
    return md


_MD = _build_parser()


def render_markdown(source: str) -> str:
    """Render a member's Markdown to the sanitised HTML that gets stored and displayed."""
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
    text = _WHITESPACE_RE.sub(" ", html.unescape(stripped)).strip()
    if len(text) <= limit:
        return text
    budget = limit - 1  # room for the ellipsis
    cut = text[:budget]
    if not text[budget].isspace():
        space = cut.rfind(" ")
        if space > 0:
            cut = cut[:space]
    return cut.rstrip(" ,;:") + "…"
