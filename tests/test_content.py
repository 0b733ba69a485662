"""Tests for forum.content: Markdown rendering, sanitising, quoting and snippets."""

from __future__ import annotations

import re
import unicodedata
from html import unescape
from html.parser import HTMLParser
from urllib.parse import unquote

import pytest

from forum.content import (
    RENDER_VERSION,
    _sanitize,
    mentioned_usernames,
    plain_text,
    quote_markdown,
    render_markdown,
)

REL = "nofollow ugc noopener noreferrer"

# The contract, written out again on purpose rather than imported from the module.
ALLOWED_TAGS = {
    "p", "br", "hr", "h3", "h4", "h5", "h6", "strong", "em", "del", "code", "pre",
    "blockquote", "ul", "ol", "li", "a", "table", "thead", "tbody", "tr", "th", "td",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "rel"}, "ol": {"start"}, "code": {"class"}}
VOID_TAGS = {"br", "hr"}
LANGUAGE_CLASS_RE = re.compile(r"language-[A-Za-z0-9_+-]+")
FORBIDDEN_TAGS = (
    "<script", "<svg", "<math", "<style", "<iframe", "<object", "<embed", "<form", "<input",
    "<img", "<base", "<meta", "<link", "<details", "<textarea", "<button", "<frame", "<video",
    "<audio", "<source", "<applet", "<template", "<noscript", "<xmp", "<plaintext", "<!--",
    "<![cdata[",
)  # fmt: skip
SCHEME_RE = re.compile(r"([a-z][a-z0-9+.-]*):")


class _Tags(HTMLParser):
    """Collects every start tag with its (already entity-decoded) attributes."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.depth = 0
        self.max_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))
        if tag not in VOID_TAGS:
            self.depth += 1
            self.max_depth = max(self.max_depth, self.depth)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))

    def handle_endtag(self, tag: str) -> None:
        if tag not in VOID_TAGS:
            self.depth -= 1


def _parse(html: str) -> _Tags:
    parser = _Tags()
    parser.feed(html)
    parser.close()
    return parser


def _href_scheme(href: str) -> str | None:
    """Scheme as the most gullible consumer could read it: decoded, no blanks or controls."""
    decoded = unquote(unescape(href))
    cleaned = "".join(
        ch for ch in decoded if not ch.isspace() and unicodedata.category(ch)[0] not in "CZ"
    ).lower()
    match = SCHEME_RE.match(cleaned)
    return match.group(1) if match else None


def assert_safe(html: str) -> None:
    lowered = html.lower()
    for needle in FORBIDDEN_TAGS:
        assert needle not in lowered, (needle, html)
    for tag, attrs in _parse(html).tags:
        assert tag in ALLOWED_TAGS, (tag, html)
        for name, value in attrs:
            assert not name.startswith("on"), (name, html)
            assert name != "style", html
            assert name in ALLOWED_ATTRIBUTES.get(tag, set()), (tag, name, html)
            if name == "class":
                assert value is not None and LANGUAGE_CLASS_RE.fullmatch(value), html
            if name == "rel":
                assert value == REL, html
            if name == "start":
                assert value is not None and value.isdigit(), html
            if name == "href":
                assert value is not None
                scheme = _href_scheme(value)
                assert scheme not in {"javascript", "vbscript", "data", "file"}, html
                assert scheme in {None, "http", "https", "mailto"}, html


def links(html: str) -> list[dict[str, str | None]]:
    return [dict(attrs) for tag, attrs in _parse(html).tags if tag == "a"]


# --- rendering basics -------------------------------------------------------------------------


def test_render_version_is_a_positive_int():
    assert isinstance(RENDER_VERSION, int)
    assert RENDER_VERSION >= 1


def test_paragraphs_and_emphasis():
    html = render_markdown("Un *peu* de **gras**\net ~~barré~~.\n\nSecond paragraphe.")
    assert "<em>peu</em>" in html
    assert "<strong>gras</strong>" in html
    assert "<del>barré</del>" in html
    assert html.count("<p>") == 2
    assert_safe(html)


def test_hard_break_and_rule():
    html = render_markdown("ligne  \nsuivante\n\n---\n")
    assert "<br>" in html
    assert "<hr>" in html


def test_lists():
    html = render_markdown("- a\n- b\n\n3. trois\n4. quatre\n")
    assert "<ul>\n<li>a</li>\n<li>b</li>\n</ul>" in html
    assert '<ol start="3">' in html
    assert "<li>quatre</li>" in html
    assert_safe(html)


def test_blockquote():
    html = render_markdown("> cité\n> > imbriqué")
    assert html.count("<blockquote>") == 2
    assert "<p>cité</p>" in html


def test_fenced_code_keeps_language_class_and_escapes_content():
    html = render_markdown("```python\nif a < b and c > d:\n    print('<b>')\n```")
    assert '<pre><code class="language-python">' in html
    assert "if a &lt; b and c &gt; d:" in html
    assert "&lt;b&gt;" in html
    assert "<b>" not in html


@pytest.mark.parametrize("lang", ["c++", "objective-c", "shell_session", "Py3"])
def test_fenced_code_language_variants(lang):
    html = render_markdown(f"```{lang}\nx\n```")
    assert f'<code class="language-{lang}">' in html


@pytest.mark.parametrize(
    "info",
    ['"><script>alert(1)</script>', "py&quot;onmouseover=alert(1)", "a.b", "c#", "x'y"],
)
def test_fenced_code_with_bad_info_string_drops_class(info):
    html = render_markdown(f"```{info}\nx\n```")
    assert "class=" not in html
    assert "<pre><code>x\n</code></pre>" in html
    assert_safe(html)


def test_indented_code_and_inline_code():
    html = render_markdown("    <script>alert(1)</script>\n\nEt `<em>` en ligne.")
    assert "<pre><code>&lt;script&gt;alert(1)&lt;/script&gt;\n</code></pre>" in html
    assert "<code>&lt;em&gt;</code>" in html


def test_table_without_style():
    html = render_markdown("| a | b | c |\n|:--|:-:|--:|\n| 1 | 2 | 3 |")
    for tag in ("<table>", "<thead>", "<tbody>", "<tr>", "<th>", "<td>"):
        assert tag in html
    assert "style" not in html
    assert "align" not in html
    assert_safe(html)


def test_bare_urls_are_linkified():
    html = render_markdown("Voir https://example.org/page?x=1&y=2 ou www.example.com ou a@b.fr.")
    hrefs = [link["href"] for link in links(html)]
    assert hrefs == ["https://example.org/page?x=1&y=2", "http://www.example.com", "mailto:a@b.fr"]
    assert_safe(html)


def test_links_get_rel():
    html = render_markdown("[site](https://example.org) [rel](/f/1#p2) <https://a.example/b>")
    found = links(html)
    assert [link["href"] for link in found] == [
        "https://example.org",
        "/f/1#p2",
        "https://a.example/b",
    ]
    assert all(link["rel"] == REL for link in found)
    assert_safe(html)


def test_link_title_is_dropped():
    html = render_markdown('[x](https://example.org "titre")')
    assert "title" not in html
    assert links(html) == [{"href": "https://example.org", "rel": REL}]


@pytest.mark.parametrize(
    ("source", "tag"),
    [("# a", "h3"), ("## a", "h4"), ("### a", "h5"), ("#### a", "h6"), ("##### a", "h6"),
     ("###### a", "h6"), ("a\n===", "h3"), ("a\n---", "h4")],
)  # fmt: skip
def test_headings_are_shifted(source, tag):
    html = render_markdown(source)
    assert html == f"<{tag}>a</{tag}>\n"


def test_no_h1_or_h2_ever():
    html = render_markdown("# un\n\n## deux\n\n<h1>brut</h1>")
    assert "<h1" not in html
    assert "<h2" not in html


# --- raw HTML and images ----------------------------------------------------------------------


def test_raw_html_is_shown_as_text():
    html = render_markdown("<b>gras</b> et <div>\nbloc\n</div>")
    assert "&lt;b&gt;gras&lt;/b&gt;" in html
    assert "&lt;div&gt;" in html
    assert "<b>" not in html
    assert "<div>" not in html


def test_entity_encoded_tags_stay_text():
    html = render_markdown("&lt;script&gt;alert(1)&lt;/script&gt;")
    assert html == "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>\n"


def test_image_becomes_link():
    html = render_markdown('![un *chat*](https://example.org/chat.png "titre")')
    assert "<img" not in html
    assert links(html) == [{"href": "https://example.org/chat.png", "rel": REL}]
    assert ">un chat (image)</a>" in html
    assert_safe(html)


def test_image_without_alt():
    html = render_markdown("![](/static/x.png)")
    assert '<a href="/static/x.png" rel="nofollow ugc noopener noreferrer">(image)</a>' in html


def test_image_alt_is_escaped():
    html = render_markdown("![<script>alert(1)</script>](https://example.org/x.png)")
    assert "&lt;script&gt;alert(1)&lt;/script&gt; (image)</a>" in html
    assert_safe(html)


def test_image_inside_link_does_not_nest_links():
    html = render_markdown("[![logo](https://example.org/logo.png)](https://example.org)")
    assert links(html) == [{"href": "https://example.org", "rel": REL}]
    assert "logo (image)" in html


@pytest.mark.parametrize(
    "source",
    [
        "![x](javascript:alert(1))",
        "![x](data:image/png;base64,iVBORw0KGgo=)",
        "![x](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)",
        "![x](ftp://example.org/x.png)",
    ],
)
def test_image_with_refused_url_is_not_a_link(source):
    html = render_markdown(source)
    assert "<img" not in html
    assert "<a" not in html
    assert_safe(html)


def test_reference_images_and_links():
    html = render_markdown("![alt][i] [lien][l]\n\n[i]: https://example.org/i.png\n[l]: /x")
    assert [link["href"] for link in links(html)] == ["https://example.org/i.png", "/x"]
    assert "<img" not in html


# --- XSS corpus -------------------------------------------------------------------------------

XSS_CORPUS = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    "<img src=x onerror=alert(1)>",
    "<svg onload=alert(1)>",
    "<svg><script>alert(1)</script></svg>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    '<a href="javascript:alert(1)">x</a>',
    "<iframe src=javascript:alert(1)></iframe>",
    '<object data="javascript:alert(1)"></object>',
    '<embed src="data:text/html,<script>alert(1)</script>">',
    '<p style="background:url(javascript:alert(1))">x</p>',
    "<style>*{background:url(javascript:alert(1))}</style>",
    "<details open ontoggle=alert(1)>",
    "<!-- <script>alert(1)</script> -->",
    "<![CDATA[<script>alert(1)</script>]]>",
    '<base href="javascript:alert(1)//">',
    '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
    '<form action="javascript:alert(1)"><input type=submit></form>',
    "<div>\n<script>alert(1)</script>\n</div>",
    "[x](javascript:alert(1))",
    "[x](JaVaScRiPt:alert(1))",
    "[x](java&#x09;script:alert(1))",
    "[x](&#106;avascript:alert(1))",
    "[x](&#x6A;avascript&#x3A;alert(1))",
    "[x](%6Aavascript:alert(1))",
    "[x]( javascript:alert(1))",
    "[x](<javascript:alert(1)>)",
    "[x](java\nscript:alert(1))",
    "[x](java\\\nscript:alert(1))",
    "[x][1]\n\n[1]: javascript:alert(1)",
    "[x][1]\n\n[1]: <javascript:alert(1)>",
    "[1]\n\n[1]: &#106;avascript:alert(1)",
    "<javascript:alert(1)>",
    "<JAVASCRIPT:alert(1)>",
    "<vbscript:msgbox(1)>",
    "<data:text/html,<script>alert(1)</script>>",
    "![x](javascript:alert(1))",
    "![x](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)",
    "![x](data:image/png;base64,iVBORw0KGgo=)",
    '![x" onerror="alert(1)](https://example.org/x.png)',
    "[x](data:text/html,<script>alert(1)</script>)",
    "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "[x](vbscript:msgbox(1))",
    "[x](file:///etc/passwd)",
    '[x](http://a "\\"><script>alert(1)</script>")',
    "[x](http://a 'onmouseover=alert(1)')",
    '[x](https://example.org/" onmouseover="alert(1))',
    "[<img src=x onerror=alert(1)>](https://example.org)",
    "[<script>alert(1)</script>](https://example.org)",
    "[x](mailto:javascript:alert(1))",
    "[x](javascript://example.org/%0Aalert(1))",
    "[x](java\x00script:alert(1))",
    "[x](java\u200bscript:alert(1))",
    "[x](\u200bjavascript:alert(1))",
    "[x](\x01javascript:alert(1))",
    "[x](javascript\u00ad:alert(1))",
    "[x](javas&#99;ript:alert(1))",
    "[x](javascript&colon;alert(1))",
    "`<script>alert(1)</script>`",
    "```\n<script>alert(1)</script>\n```",
    '```"><script>alert(1)</script>\nx\n```',
    "``` onload=alert(1)\nx\n```",
    "&lt;script&gt;alert(1)&lt;/script&gt;",
    "&#60;script&#62;alert(1)&#60;/script&#62;",
    "\\<script>alert(1)\\</script>",
    "<a href='javascript:alert(1)'>*x*</a>",
    "*<script>*alert(1)*</script>*",
    "| <script>alert(1)</script> |\n|---|\n| <img src=x onerror=alert(1)> |",
    "> <iframe srcdoc='<script>alert(1)</script>'>",
    "- <svg/onload=alert(1)>",
    "www.example.org/<script>alert(1)</script>",
    'https://example.org/"onmouseover="alert(1)',
    '<https://example.org/"onmouseover="alert(1)>',
]


@pytest.mark.parametrize("source", XSS_CORPUS)
def test_xss_corpus(source):
    assert_safe(render_markdown(source))


@pytest.mark.parametrize("source", XSS_CORPUS)
def test_xss_corpus_inside_quote(source):
    assert_safe(render_markdown(quote_markdown("Alice", source)))


def test_sanitizer_is_the_final_barrier():
    dirty = (
        '<h1 class="x">t</h1><a href="javascript:alert(1)" onclick="x()" style="color:red"'
        ' class="c" title="t">a</a><a href="java&#x09;script:alert(1)">b</a>'
        '<a href="%6Aavascript:alert(1)">c</a><a href="https://ok.example">d</a>'
        '<img src="x" onerror="alert(1)"><script>alert(1)</script><style>p{}</style>'
        '<code class="language-py evil">e</code><code class="language-js">f</code>'
        '<ol start="2" type="a"><li>g</li></ol><ol start="x"><li>h</li></ol>'
        '<iframe src="https://evil.example"></iframe><svg><circle/></svg><span>i</span>'
        '<th style="text-align:left" align="left">j</th>'
    )
    clean = _sanitize(dirty)
    assert_safe(clean)
    assert '<a href="https://ok.example" rel="nofollow ugc noopener noreferrer">d</a>' in clean
    assert '<code class="language-js">f</code>' in clean
    assert "<code>e</code>" in clean
    assert '<ol start="2"><li>g</li></ol>' in clean
    assert "<ol><li>h</li></ol>" in clean
    assert "alert" not in clean
    assert "<h1" not in clean


# --- pathological input -----------------------------------------------------------------------
# The parser's own bounds, behind the limits of check_source (stored bodies are re-rendered
# without them).


def _unchecked(source: str) -> str:
    return render_markdown(source, checked=False)


def test_deeply_nested_blockquotes_are_bounded():
    html = _unchecked(">" * 10_000 + " fond")
    assert html.count("<blockquote>") <= 25
    assert _parse(html).max_depth <= 30
    assert_safe(html)


def test_spaced_nested_blockquotes_are_bounded():
    html = _unchecked("> " * 10_000 + "fond")
    assert html.count("<blockquote>") <= 25


def test_deeply_nested_lists_are_bounded():
    for marker in ("* ", "- ", "1. "):
        html = _unchecked(marker * 10_000 + "x")
        assert html.count("<ul>") + html.count("<ol>") <= 25
        assert _parse(html).max_depth <= 50


def test_many_stars_and_brackets_render():
    for source in ("*" * 10_000, "[" * 10_000, "[" * 10_000 + "a" + "]" * 10_000, "![" * 5_000):
        html = _unchecked(source)
        assert _parse(html).max_depth <= 30
        assert_safe(html)
    assert _unchecked("[" * 10_000).count("[") == 10_000


def test_emphasis_pairs_render_flat():
    html = _unchecked("*a" * 25_000)
    assert html.startswith("<p>")
    assert _parse(html).max_depth <= 3
    assert_safe(html)


def test_nested_links_and_emphasis_are_bounded():
    html = _unchecked("[" * 50 + "x" + "](https://example.org)" * 50)
    assert _parse(html).max_depth <= 30
    html = _unchecked("**_" * 200 + "x" + "_**" * 200)
    assert _parse(html).max_depth <= 30


# --- quote_markdown ---------------------------------------------------------------------------


def test_quote_markdown_format():
    assert quote_markdown("Alice", "Bonjour\n\nà tous") == (
        "> **Alice** a écrit :\n>\n> Bonjour\n>\n> à tous\n\n"
    )


def test_quote_markdown_normalises_newlines_and_trailing_blanks():
    assert quote_markdown("Bob", "a\r\nb\r\n\r\n") == "> **Bob** a écrit :\n>\n> a\n> b\n\n"


def test_quote_markdown_round_trip():
    html = render_markdown(quote_markdown("Alice", "Premier *point*\n\n> ancienne citation"))
    assert html.startswith("<blockquote>\n<p><strong>Alice</strong> a écrit :</p>")
    assert "<em>point</em>" in html
    assert html.count("<blockquote>") == 2
    assert html.rstrip().endswith("</blockquote>")


def test_quote_markdown_then_reply_is_outside_quote():
    html = render_markdown(quote_markdown("Alice", "cité") + "Ma réponse")
    assert html.endswith("</blockquote>\n<p>Ma réponse</p>\n")


@pytest.mark.parametrize(
    "author",
    [
        "**x** [a](javascript:1)",
        "[a](https://evil.example)",
        "# titre",
        "<script>alert(1)</script>",
        "x\n\n# evil\n[a](https://evil.example)",
        "_a_ `b` ~~c~~ \\ &amp; &#42;",
        "https://evil.example",
    ],
)
def test_quote_markdown_escapes_author(author):
    html = render_markdown(quote_markdown(author, "texte"))
    assert_safe(html)
    assert "<a" not in html
    assert "<em>" not in html
    assert "<code>" not in html
    assert "<del>" not in html
    assert html.count("<strong>") == 1
    assert "<h3" not in html
    strong = re.search(r"<strong>(.*?)</strong>", html, re.S)
    assert strong is not None
    assert unescape(strong.group(1)) == " ".join(author.split())


# --- plain_text -------------------------------------------------------------------------------


def test_plain_text_strips_tags_and_unescapes():
    html = render_markdown("# Titre\n\nDu *texte* & des <balises>.\n\n- un\n- deux")
    assert plain_text(html) == "Titre Du texte & des <balises>. un deux"


def test_plain_text_drops_script_content_and_collapses_whitespace():
    assert plain_text("<p>a\n\n  b</p><script>x()</script><p>c&nbsp;d</p>") == "a b c d"


def test_plain_text_short_text_unchanged():
    assert plain_text("<p>court</p>", limit=5) == "court"


def test_plain_text_cuts_at_word_boundary():
    text = plain_text("<p>Lorem ipsum dolor sit amet, consectetur</p>", limit=20)
    assert text == "Lorem ipsum dolor…"
    assert len(text) <= 20


def test_plain_text_cut_exactly_before_a_space():
    assert plain_text("<p>abcd efgh ijkl</p>", limit=10) == "abcd efgh…"


def test_plain_text_long_word_is_cut_hard():
    text = plain_text("<p>" + "x" * 50 + "</p>", limit=10)
    assert text == "x" * 9 + "…"


def test_plain_text_default_limit():
    text = plain_text(render_markdown("mot " * 200))
    assert len(text) <= 200
    assert text.endswith("mot…")


def test_plain_text_rejects_nonpositive_limit():
    with pytest.raises(ValueError):
        plain_text("<p>x</p>", limit=0)


@pytest.mark.parametrize(
    ("source", "names"),
    [
        ("Bonjour @alice et @bob.", ["alice", "bob"]),
        ("&#64;alice, &#x40;bob et &commat;carole", ["alice", "bob", "carole"]),
        ("Écrire à alice@exemple.org", []),
        ("`@alice` en code", []),
        ("Ni arobase ni entité : personne.", []),
    ],
)
def test_mentioned_usernames(source, names):
    assert mentioned_usernames(source) == names


# --- limits: hostile bodies are refused, the worst accepted ones render ---------------------

from forum import content as content_module  # noqa: E402 - the limits, next to their tests
from forum.hostile import ACCEPTED, REFUSED  # noqa: E402
from forum.refusals import Refused  # noqa: E402


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_hostile_body_is_refused_with_its_limit(name):
    assert len(REFUSED[name]) <= 50_000  # within the length of a post: refused for its shape
    with pytest.raises(Refused) as refused:
        render_markdown(REFUSED[name])
    assert re.search(r"limite (est )?de [0-9]+", refused.value.message)


@pytest.mark.parametrize("name", sorted(ACCEPTED))
def test_worst_accepted_body_renders(name):
    assert len(ACCEPTED[name]) <= 50_000
    html = render_markdown(ACCEPTED[name])
    assert html
    assert_safe(html)


@pytest.mark.parametrize(
    ("at_limit", "beyond", "message"),
    [
        (
            "a\n" * content_module.MAX_LINES,
            "a\n" * (content_module.MAX_LINES + 1),
            "Le message dépasse la limite de 400 lignes de texte. "
            "Regroupez des lignes ou partagez le texte en plusieurs messages.",
        ),
        (
            "[a] " * content_module.MAX_LINKS,
            "[a] " * content_module.MAX_LINKS + "https://exemple.org",
            "Le message contient 101 liens, images, adresses web ou crochets [ ] ; "
            "la limite est de 100. Gardez les plus utiles.",
        ),
        (
            "@alice " * content_module.MAX_MENTIONS_PER_POST,
            "@alice " * content_module.MAX_MENTIONS_PER_POST + "@bob",
            "Le message contient 51 mentions @pseudo ; la limite est de 50. "
            "Mentionnez seulement les personnes concernées.",
        ),
        (
            "_" * content_module.MAX_MARKS,
            "_" * content_module.MAX_MARKS + "&",
            "Le message contient 2001 signes de mise en forme (* _ ~ < & \\ `) ; la limite "
            "est de 2000. Placez le code entre deux lignes ``` ou allégez la mise en forme.",
        ),
        (
            "> " * content_module.MAX_DEPTH + "a",
            "> " * (content_module.MAX_DEPTH + 1) + "a",
            "Le message imbrique 11 niveaux de citations ou de listes ; la limite est de 10. "
            "Citez seulement le passage auquel vous répondez.",
        ),
    ],
)
def test_each_limit_accepts_its_value_and_refuses_one_more(at_limit, beyond, message):
    content_module.check_source(at_limit)
    with pytest.raises(Refused) as refused:
        content_module.check_source(beyond)
    assert refused.value.message == message


def test_nested_lists_count_as_depth():
    nested = "".join("  " * level + "- niveau\n" for level in range(content_module.MAX_DEPTH))
    content_module.check_source(nested)
    with pytest.raises(Refused):
        content_module.check_source(nested + "  " * content_module.MAX_DEPTH + "- trop\n")


def test_a_numbered_item_is_one_level_whatever_its_number():
    content_module.check_source("> 123456789. un\n> > 10) deux\n")
    assert content_module._depth("> 123456789. un") == 2
    assert content_module._depth("    - quatre espaces puis un tiret") == 3


def test_fenced_code_is_left_out_of_the_counts():
    code = "```json\n" + '{"a": [1, 2], "b": "*_<&"}\n' * 2_000 + "```\n"
    content_module.check_source("Voici le fichier :\n\n" + code + "\nÀ vous.")
    html = render_markdown(code)
    assert html.startswith('<pre><code class="language-json">')
    # "~~~" does not close a "```" fence: a fence left open runs to the end, as code.
    unclosed = "```\n" + "[" * 300 + "\n~~~\n"
    content_module.check_source(unclosed)
    assert render_markdown(unclosed).startswith("<pre><code>[[[")
    with pytest.raises(Refused):  # after a closed fence, brackets count again
        content_module.check_source("```\nx\n```\n" + "[" * 300)
    with pytest.raises(Refused):  # lines of text count, blank lines and code do not
        content_module.check_source(("a\n\n" + "```\nx\n```\n") * (content_module.MAX_LINES + 1))
    content_module.check_source(("a\n\n" + "```\nx\n```\n") * content_module.MAX_LINES)


def test_a_link_counts_once_and_bare_addresses_count():
    link = "[le rapport](https://exemple.org/rapport) "
    content_module.check_source(link * content_module.MAX_LINKS)
    with pytest.raises(Refused):
        content_module.check_source(
            link * (content_module.MAX_LINKS // 2)
            + "www.a.org " * (content_module.MAX_LINKS // 2 + 1)
        )


def test_rerendering_a_stored_body_skips_the_limits():
    html = render_markdown("[" * 1_000, checked=False)
    assert html == "<p>" + "[" * 1_000 + "</p>\n"
