"""The Markdown and HTML reports build nothing from hostile input (issue 39, "Integrity end to end").

Reports are rendered with markdown-it-py, a CommonMark renderer (raw HTML on), also with GFM tables and
strikethrough, and with linkify where linkify-it-py is installed; the only elements and attributes in
the output must be the report's own.
"""

import importlib.util
import re
from html.parser import HTMLParser

import pytest

from detector.relation import SpinEvidence
from detector.report import ArticleReport, SentenceFinding, SourceContribution, render_html, render_markdown

markdown_it = pytest.importorskip("markdown_it")

SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(1)>"
LINK = "[x](javascript:alert(1))"
IFRAME = '<iframe src="https://evil.example/"></iframe>'
HOSTILE = [
    SCRIPT, IMG, LINK, IFRAME,
    "![p](https://evil.example/p.png) [ref] [ref]: javascript:alert(1)",
    "<https://evil.example/> <javascript:alert(1)> <a@evil.example> <a href=\"javascript:alert(1)\">a</a>",
    "www.evil.example https://evil.example/x //localhost mailto:a@evil.example a@evil.example evil.com",
    "*em* _em_ **strong** __strong__ ~~del~~ ~del~ `code` ``` fence ``` \\` a|b &lt;script&gt; &#60;b&#62;",
]
BREAKS = ["\n", "\r\n", "\r", "\v", "\f", "\x85", "\u2028", "\u2029"]
# every kind of line break, each followed by a line that would open a block of its own
BLOCKS = "".join(f"{br}{line}" for br, line in zip(BREAKS, [
    SCRIPT, "# heading", "<iframe src=x>", "> quote", "- item", "| a | b |", "[r]: javascript:alert(1)", "```",
]))
IDS = [
    "id" + BLOCKS, "a`b``c", "x | y", "# top #", "`` " + IMG + " ``", "`", "", "  ", "\\", LINK, "www.evil.example",
]
ALLOWED = {"h2", "p", "strong", "ul", "li", "code", "table", "thead", "tbody", "tr", "th", "td"}


def finding(number: int) -> SentenceFinding:
    text = HOSTILE[number % len(HOSTILE)]
    return SentenceFinding(
        text=f"{text} confess{BLOCKS}",
        spun_probability=0.9,
        relation="spun",
        source_sentence=f"{HOSTILE[(number + 1) % len(HOSTILE)]} admit{BLOCKS}",
        substitutions=[("admit" + BLOCKS, IMG), (LINK, "x | y\n# z")],
        evidence=SpinEvidence(flagged_words=[(SCRIPT, 0.9)], thesaurus_swaps=[(IFRAME, LINK + "\n" + SCRIPT)]),
        source_id=IDS[number % len(IDS)],
    )


def hostile_reports() -> list[ArticleReport]:
    return [
        ArticleReport(
            verdict="spun", spin_score=0.5, source_id=IDS[n % len(IDS)], source_given=True,
            candidates=[(doc_id, 0.5) for doc_id in IDS],
            sources=[SourceContribution(id=doc_id, coverage=0.5) for doc_id in IDS],
            sentences=[finding(n + k) for k in range(len(HOSTILE))],
            notes=[text + BLOCKS for text in HOSTILE],
            article_id=IDS[n % len(IDS)] or "x" + BLOCKS,
        )
        for n in range(len(IDS))
    ]


def permissive(preset: str):
    """markdown-it-py's renderer, made to keep every link as written, as a renderer with no URL filter would."""
    md = markdown_it.MarkdownIt(preset)
    md.validateLink = lambda url: True
    return md


def renderers():
    md = permissive
    yield pytest.param(md("commonmark"), id="commonmark")
    yield pytest.param(md("commonmark").enable(["table", "strikethrough"]), id="commonmark+gfm-tables")
    linkify = importlib.util.find_spec("linkify_it") is not None
    yield pytest.param(
        md("gfm-like") if linkify else None, id="gfm-like+linkify",
        marks=pytest.mark.skipif(not linkify, reason="linkify-it-py is not installed"),
    )


class Elements(HTMLParser):
    """Every start tag with its attributes, and the text, of an HTML fragment."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags, self.text = [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, attrs))

    def handle_startendtag(self, tag, attrs):
        self.tags.append((tag, attrs))

    def handle_data(self, data):
        self.text.append(data)


def elements(page: str) -> Elements:
    parser = Elements()
    parser.feed(page)
    parser.close()
    return parser


def flat(tokens):
    for token in tokens:
        yield token
        yield from flat(token.children or [])


@pytest.mark.parametrize("md", renderers())
def test_markdown_report_builds_no_element_from_hostile_input(md):
    """Issue 39: raw HTML, javascript: links and ids with line breaks went through into the Markdown."""
    reports = hostile_reports()
    text = render_markdown(reports)
    tokens = list(flat(md.parse(text)))
    kinds = {token.type for token in tokens}
    assert not kinds & {"html_inline", "html_block", "link_open", "image", "em_open", "s_open", "fence", "code_block"}
    assert not kinds & {"blockquote_open", "hr", "lheading"}
    headings = [token for token in tokens if token.type == "heading_open"]
    assert [token.tag for token in headings] == ["h2"] * len(reports)
    assert sum(token.type == "strong_open" for token in tokens) == len(reports)  # the verdict, nothing else
    assert sum(token.type == "code_inline" for token in tokens) == len(reports) * (1 + 2 * len(IDS))
    page = md.render(text)
    for needle in ("<script", "<img", "<iframe", "<a ", "href=\"", "onerror=alert(1)>"):
        assert needle not in page  # as text, "&lt;img src=x onerror=alert(1)&gt;"
    parsed = elements(page)
    assert {tag for tag, _ in parsed.tags} <= ALLOWED
    assert all(not attrs for tag, attrs in parsed.tags if tag != "th" and tag != "td")
    assert {name for _, attrs in parsed.tags for name, _ in attrs} <= {"style"}  # GFM column alignment only
    shown = "".join(parsed.text)
    for piece in HOSTILE[:4]:
        assert piece in shown  # shown as text, as it was


@pytest.mark.parametrize("md", renderers())
def test_markdown_tables_keep_six_cells_and_ids_stay_whole(md):
    reports = hostile_reports()
    if "table" not in md.get_active_rules()["block"]:
        pytest.skip("this renderer has no tables")
    tokens = list(flat(md.parse(render_markdown(reports))))
    rows = [token for token in tokens if token.type == "tr_open"]
    cells = sum(token.type in ("td_open", "th_open") for token in tokens)
    assert len(rows) == len(reports) * (len(HOSTILE) + 1) and cells == 6 * len(rows)
    codes = [token.content for token in tokens if token.type == "code_inline"]
    for doc_id in IDS:
        assert re.sub(r"[\n\r\v\f\x85\u2028\u2029]+", " ", doc_id).strip() in {code.strip() for code in codes}


def test_markdown_lines_never_break_inside_input():
    reports = hostile_reports()
    text = render_markdown(reports)
    assert not re.search(r"[\r\v\f\x85\u2028\u2029]", text)
    starts = {line[:2] for line in text.splitlines() if line}
    assert starts <= {"##", "**", "- ", "| ", "|-"}


def test_ordinary_text_reads_as_it_was():
    sentence = "NATO (Reuters) said on Monday: the 3.5% rise, at 10:30, was \"not enough\" - really!"
    report = ArticleReport(
        verdict="spun", spin_score=0.5, source_id="bbc_2024-01", source_given=True, article_id="wire_story 7",
        sentences=[SentenceFinding(text=sentence, spun_probability=0.9, relation="spun", source_sentence=sentence,
                                   substitutions=[("admit", "confess")])],
        notes=["evasion: hidden characters removed"], evasion={"zero_width": 1},
    )
    text = report.to_markdown()
    assert "## wire_story 7" in text and "`bbc_2024-01`" in text and "zero_width 1" in text
    assert f"| {sentence} | {sentence} | admit → confess |" in text
    assert "- Note: evasion: hidden characters removed" in text


def test_html_report_escapes_ids_everywhere():
    """Issue 39: ids in the title, the closest source, the contributing sources and the relation names."""
    reports = hostile_reports()
    for report in reports:
        report.sources[0].relation_counts = {IMG: 1}
        report.evasion = {SCRIPT: 1}
        report.verdict = '"><img src=x onerror=alert(1)>'
    page = render_html(reports)
    parsed = elements(page)
    assert {tag for tag, _ in parsed.tags} <= {
        "html", "head", "meta", "title", "style", "body", "h1", "section", "h2", "h3", "p", "span", "ul", "li", "code",
        "table", "thead", "tbody", "tr", "th", "td", "mark",
    }
    for tag, attrs in parsed.tags:
        for name, value in attrs:
            assert name in {"lang", "charset", "class"}, (tag, name)
            assert value is None or "javascript:" not in value, (tag, value)
    assert "<script" not in page and "<img" not in page and "<iframe" not in page


def hostile_alone_reports() -> list[ArticleReport]:
    """Reports judged with no index, whose flagged words are hostile input too (issue 37)."""
    sentences = [
        SentenceFinding(
            text=f"{text} confess{BLOCKS}", spun_probability=0.9, relation="spun",
            evidence=SpinEvidence(flagged_words=[(text, 0.9), (LINK + BLOCKS, 0.8)], sentence_probability=0.9),
        )
        for text in HOSTILE
    ]
    return [ArticleReport(verdict="spun", spin_score=0.9, sentences=sentences, notes=HOSTILE, article_id=IDS[0])]


@pytest.mark.parametrize("md", renderers())
def test_no_index_markdown_lists_hostile_flagged_words_as_text(md):
    """Issue 37: the flagged-words column goes through `_md` like every other cell."""
    text = render_markdown(hostile_alone_reports())
    tokens = list(flat(md.parse(text)))
    kinds = {token.type for token in tokens}
    assert not kinds & {"html_inline", "html_block", "link_open", "image", "em_open", "s_open", "fence", "code_block"}
    if "table" in md.get_active_rules()["block"]:
        rows = [token for token in tokens if token.type == "tr_open"]
        assert len(rows) == len(HOSTILE) + 1
        assert sum(token.type in ("td_open", "th_open") for token in tokens) == 5 * len(rows)
    page = md.render(text)
    assert "<script" not in page and "<img" not in page and "<iframe" not in page and "href=\"" not in page


def test_no_index_html_marks_hostile_flagged_words_as_text():
    page = render_html(hostile_alone_reports())
    parsed = elements(page)
    assert {tag for tag, _ in parsed.tags} <= {
        "html", "head", "meta", "title", "style", "body", "h1", "section", "h2", "h3", "p", "span", "ul", "li", "code",
        "table", "thead", "tbody", "tr", "th", "td", "mark",
    }
    assert "<script" not in page and "<img" not in page and "<iframe" not in page
    assert '<mark class="flag">&lt;script&gt;alert(1)&lt;/script&gt;</mark>' in page
