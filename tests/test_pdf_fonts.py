"""Every PDF draws Latin (Polish included), Cyrillic and Chinese with real glyphs, and is PDF/A-3a.

WeasyPrint draws empty boxes, without a warning, for a script no installed font covers, and
picks Japanese glyph shapes for Chinese unless Noto Sans CJK *SC* is named. So these tests
read the embedded fonts back: which fonts there are, and which characters each one draws.
"""

import io
import re
from xml.dom.minidom import Element

import pypdf
import pytest

from portal import settings
from portal.reports import processing_record

POLISH = "Zażółć gęślą jaźń ŁĄKA"
RUSSIAN = "Съешь же ещё этих мягких булок ЙЁ"
CHINESE = "王小明的花店"
BUSINESS = f"{POLISH} · {RUSSIAN} · {CHINESE}"
PDFAID = "http://www.aiim.org/pdfa/ns/id/"


@pytest.fixture
def document(app) -> pypdf.PdfReader:
    """The record of processing (a real document through pdf.render) naming the business in
    three scripts."""
    with app.test_request_context():
        settings.put("business_name", BUSINESS)
        return pypdf.PdfReader(io.BytesIO(processing_record.render_pdf("zh")))


def embedded_fonts(reader: pypdf.PdfReader) -> dict[str, set[str]]:
    """Each embedded font's name (subset prefix removed) → the characters it draws."""
    fonts: dict[str, set[str]] = {}
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            name = str(font["/BaseFont"]).lstrip("/").split("+", 1)[-1]
            cmap = font["/ToUnicode"].get_object().get_data().decode("ascii")
            fonts.setdefault(name, set()).update(_drawn_characters(cmap))
    return fonts


def _drawn_characters(cmap: str) -> set[str]:
    # bfchar lines map a glyph id to the text it draws: <glyph> <UTF-16BE>. Glyph 0 is
    # .notdef, the empty box drawn for a character the font lacks.
    characters = set()
    for block in re.findall(r"beginbfchar(.*?)endbfchar", cmap, re.S):
        for glyph, text in re.findall(r"<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>", block):
            if int(glyph, 16):
                characters.update(bytes.fromhex(text).decode("utf-16-be"))
    return characters


def test_the_text_reads_back_in_every_script(document):
    text = "".join(page.extract_text() for page in document.pages)
    for phrase in (POLISH, RUSSIAN, CHINESE):
        assert phrase in text


def test_latin_and_cyrillic_are_drawn_with_dejavu_and_chinese_with_noto_sans_cjk_sc(document):
    fonts = embedded_fonts(document)
    dejavu = set().union(*(chars for name, chars in fonts.items() if name.startswith("DejaVu")))
    chinese = set().union(*(chars for name, chars in fonts.items() if "CJK" in name))
    assert set((POLISH + RUSSIAN).replace(" ", "")) <= dejavu, fonts.keys()
    assert set(CHINESE) <= chinese, fonts.keys()
    cjk_fonts = {name for name in fonts if "CJK" in name}
    # Named SC, or Chinese gets Japanese or Korean glyph shapes.
    assert cjk_fonts and all("CJK-SC" in name for name in cjk_fonts), cjk_fonts


def test_the_document_is_pdf_a_3a(document):
    root = document.trailer["/Root"]
    description = _xmp_values(document.xmp_metadata.rdf_root)
    assert description.get("part") == "3"
    assert description.get("conformance") == "A"
    assert root["/MarkInfo"]["/Marked"] == pypdf.generic.BooleanObject(
        True
    )  # tagged: structure for screen readers
    assert "/StructTreeRoot" in root
    assert root["/Lang"] == "zh"
    assert "/OutputIntents" in root


def _xmp_values(rdf_root: Element) -> dict[str, str]:
    """pdfaid values, written either as attributes or as elements of rdf:Description."""
    values = {}
    for description in rdf_root.getElementsByTagNameNS(
        "http://www.w3.org/1999/02/22-rdf-syntax-ns#", "Description"
    ):
        for name in ("part", "conformance"):
            if description.hasAttributeNS(PDFAID, name):
                values[name] = description.getAttributeNS(PDFAID, name)
            for element in description.getElementsByTagNameNS(PDFAID, name):
                values[name] = element.firstChild.data
    return values
