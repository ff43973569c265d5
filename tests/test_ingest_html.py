"""HTML ingestion: the main text is kept wherever it sits (divs, spans, text beside child elements,
line breaks), once, with headings, lists and tables as Markdown; page chrome is dropped."""

import pytest
from bs4 import BeautifulSoup

from builder.config import IngestConfig
from builder.errors import CorruptDocument
from builder.ingest import extract
from builder.templates import templates_dir

WIKI_EXPORT = """<!DOCTYPE html><html><head><title>Annual leave - Staff wiki</title></head><body>
<div id="page">
 <header id="header"><div class="aui-header"><a href="/">Dashboard</a> <a href="/people">People directory</a>
 </div></header>
 <div id="breadcrumb-section"><ol id="breadcrumbs"><li><a href="/hr">Human Resources</a></li></ol></div>
 <div id="main" role="main">
  <div id="main-header"><h1 id="title-heading"><span id="title-text">Annual leave policy</span></h1></div>
  <div id="content" class="page view">
   <div id="main-content" class="wiki-content">
    <div class="confluence-information-macro"><div class="confluence-information-macro-body">Full-time staff get
      25 days of annual leave a year, plus public holidays.</div></div>
    <h2 id="carry">Carrying leave over</h2>
    <div>Up to five unused days can be carried into the next leave year.<br>Days carried over must be used by
      31 March.<br/>Anything left after that date is lost.</div>
    <div class="table-wrap"><table class="confluenceTable"><tbody>
     <tr><th>Years of service</th><th>Days per year</th></tr>
     <tr><td><div class="content-wrapper"><p>Under 5 years</p></div></td><td>25 days</td></tr>
     <tr><td><div class="content-wrapper"><p>5 years or more</p></div></td><td>28 days</td></tr>
    </tbody></table></div>
    <h2 id="booking">Booking leave</h2>
    <ul><li><span>Book leave in the HR portal at least two weeks ahead.</span></li>
        <li>Your manager approves or declines within three working days.</li></ul>
   </div>
  </div>
 </div>
 <div id="footer" role="contentinfo"><section><ul><li>Powered by Atlassian Confluence 7.19</li></ul></section></div>
</div></body></html>"""

NESTED_DIVS = """<html><body><div class="app">
<div class="sidebar">Quick links: <a href="/">Home</a> <a href="/contact">Contact us</a></div>
<div class="content"><div class="section">
  <div class="title"><b>Returning equipment</b></div>
  Laptops go back to the IT desk on your last day.
  <div class="note">Bring the charger and the docking cable too.</div>
  Phones are wiped before they are reissued.
  <span>Keep the signed receipt.</span>
  <div><div><div>Deeply nested text survives exactly once.</div></div></div>
</div></div>
<aside>Related: printer setup</aside>
</div>
<footer><div>Copyright 2024 Example Ltd</div></footer>
<script>track()</script></body></html>"""


def html_text(html: str) -> str:
    return extract("page.html", html.encode("utf-8"), IngestConfig()).text


def test_exported_wiki_page_keeps_div_text_tables_and_lists_and_drops_chrome():
    text = html_text(WIKI_EXPORT)
    assert text.split("\n\n") == [
        "# Annual leave policy",
        "Full-time staff get 25 days of annual leave a year, plus public holidays.",
        "## Carrying leave over",
        "Up to five unused days can be carried into the next leave year.\n"
        "Days carried over must be used by 31 March.\nAnything left after that date is lost.",
        "| Years of service | Days per year |\n| Under 5 years | 25 days |\n| 5 years or more | 28 days |",
        "## Booking leave",
        "- Book leave in the HR portal at least two weeks ahead.\n"
        "- Your manager approves or declines within three working days."]


def test_text_beside_child_elements_is_kept_once_in_order_and_chrome_dropped():
    text = html_text(NESTED_DIVS)
    assert text.split("\n\n") == [
        "Returning equipment", "Laptops go back to the IT desk on your last day.",
        "Bring the charger and the docking cable too.",
        "Phones are wiped before they are reissued. Keep the signed receipt.",
        "Deeply nested text survives exactly once."]
    for chrome in ["Quick links", "Contact us", "printer setup", "Copyright", "track()"]:
        assert chrome not in text


def test_spans_line_breaks_nested_lists_and_layout_tables():
    html = """<body><span>First line of the notice.<br>Second line.</span> <span>Third, in a span.</span>
    <ul><li>Item one</li><li>Item two<ol><li>Sub-step A</li><li>Sub-step B</li></ol></li></ul>
    <table><tr><td><h2>Contact</h2><p>Call 0100 200 300.</p></td><td><h2>Address</h2>1 Quay Street<br>Harbourtown</td>
    </tr></table></body>"""
    assert html_text(html).split("\n\n") == [
        "First line of the notice.\nSecond line. Third, in a span.",
        "- Item one\n- Item two\n  1. Sub-step A\n  2. Sub-step B",
        "## Contact", "Call 0100 200 300.", "## Address", "1 Quay Street\nHarbourtown"]


def test_page_wide_form_keeps_its_text_but_not_its_controls():
    html = """<body><form id="aspnetForm"><h1>Parking permits</h1><p>One permit per household.</p>
    <label>Postcode <input name="pc"></label><select><option>Zone A</option></select><button>Check</button>
    </form></body>"""
    assert html_text(html).split("\n\n") == ["# Parking permits", "One permit per household."]


def test_article_header_is_content_but_page_header_is_chrome():
    html = """<body><header>Site name and menu</header><main><article><header><h1>Storm rules</h1>
    <p>Updated in May.</p></header><p>Docks close above 75 km/h gusts.</p><footer>Filed under: safety</footer>
    </article></main></body>"""
    text = html_text(html)
    assert text.split("\n\n") == ["# Storm rules", "Updated in May.", "Docks close above 75 km/h gusts.",
                                  "Filed under: safety"]


@pytest.mark.parametrize("sample", ["fees-and-passes.html", "stations-and-hours.html"])
def test_sample_pages_lose_nothing_of_their_main_text(sample):
    """Every heading, paragraph, list item, table row and caption of the page's <main> is in the text."""
    html = (templates_dir() / "samples" / sample).read_text(encoding="utf-8")
    text = html_text(html)
    main = BeautifulSoup(html, "html.parser").main
    flat = " ".join(text.split())
    for el in main.find_all(["h1", "h2", "h3", "p", "li", "caption"]):
        assert " ".join(el.get_text().split()) in flat
    lines = text.splitlines()
    for tr in main.find_all("tr"):
        assert "| " + " | ".join(" ".join(c.get_text().split()) for c in tr.find_all(["td", "th"])) + " |" in lines
    assert sum(line.startswith("#") for line in lines) == len(main.find_all(["h1", "h2", "h3"]))
    assert "cookies" not in text and "Log in" not in text and "registered co-operative" not in text


def test_absurdly_deep_nesting_is_a_clear_error():
    with pytest.raises(CorruptDocument, match="nests its elements"):
        html_text("<div>" * 5000 + "deep" + "</div>" * 5000)
