"""Ingestion: every format, the per-file report, limits, and each listed bad input (batch goes on)."""

import argparse
import io
import logging
import time
import tracemalloc
import zipfile

import docx
import pytest
from fpdf import FPDF
from pypdf import PdfReader, PdfWriter
from pypdf.errors import DependencyError

from dab.commands import cmd_ingest
from builder.config import IngestConfig
from builder.ingest import extract, ingest_bytes, ingest_paths
from builder.ingest.base import PARSERS
from builder.project import Project
from builder.templates import sample_documents


@pytest.fixture()
def project(tmp_path) -> Project:
    return Project.create(tmp_path / "p")


def pdf_bytes(pages: list[str]) -> bytes:
    pdf = FPDF()
    pdf.set_font("helvetica", size=12)
    for text in pages:
        pdf.add_page()
        pdf.multi_cell(0, 10, text)
    return bytes(pdf.output())


def docx_bytes() -> bytes:
    document = docx.Document()
    document.add_heading("Fees", level=1)
    document.add_paragraph("The Day Pass costs 4.50 euro.")
    document.add_heading("Late payment", level=2)
    table = document.add_table(rows=2, cols=2)
    for (r, c), text in {(0, 0): "Item", (0, 1): "Fee", (1, 0): "Late", (1, 1): "5 euro"}.items():
        table.cell(r, c).text = text
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def zip_bytes(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buffer.getvalue()


def test_formats_keep_structure_and_report(project):
    good = {"a.md": b"# Title\n\n## Part\n\nSome text here.", "b.docx": docx_bytes(),
            "c.html": b"<html><nav>MENU LINKS</nav><script>var x=1</script><main><h1>Hours</h1>"
                      b"<p>Open daily.</p></main><footer>Copyright</footer></html>",
            "d.pdf": pdf_bytes(["Page one text.", "Page two text."])}
    rows = {name: ingest_bytes(project, name, data, IngestConfig()) for name, data in good.items()}
    assert all(r["status"] == "ok" for r in rows.values())
    assert rows["a.md"]["headings"] == 2 and rows["d.pdf"]["pages"] == 2 and not rows["d.pdf"]["pages_estimated"]
    docx_text = (project.extracted_dir / f"{rows['b.docx']['source_id']}.md").read_text()
    assert "# Fees" in docx_text and "## Late payment" in docx_text and "| Late | 5 euro |" in docx_text
    html_text = (project.extracted_dir / f"{rows['c.html']['source_id']}.md").read_text()
    assert "# Hours" in html_text and "Open daily." in html_text
    assert "MENU" not in html_text and "var x" not in html_text and "Copyright" not in html_text
    assert len(project.sources()) == 4


def test_sample_corpus_offers_only_documents():
    """The sample's README and question sets (held-out, unanswerable) are not ingested as documents."""
    names = {path.name for path in sample_documents()}
    assert names.isdisjoint({"README.md", "heldout.jsonl", "unanswerable.jsonl"})
    assert len(names) == 9 and all(path.suffix in PARSERS for path in sample_documents())


def test_text_encodings_keep_bom_and_nul_handling():
    cfg = IngestConfig()
    assert extract("a.txt", "\ufeffcafé".encode("utf-8"), cfg).text == "café"
    utf16 = extract("a.txt", "Grüße aus Köln".encode("utf-16"), cfg)
    assert utf16.text == "Grüße aus Köln" and not utf16.warnings
    nul = extract("a.txt", b"ab\x00cd\x00", cfg)
    assert nul.text == "abcd" and "removed 2 NUL bytes" in nul.warnings[0]


def test_plain_text_titles_become_headings():
    text = extract("minutes.txt", "WELCOME\n\nHello all.\n\n3. THE INDUCTION\n\nTwo mornings.\n\n每周工作五天。\n\nÉTÉ 2024"
                   .encode(), IngestConfig()).text
    assert "## WELCOME" in text and "## 3. THE INDUCTION" in text and "Hello all." in text
    assert "\n每周工作五天。" in text and "## ÉTÉ 2024" in text
    clauses = extract("terms.txt", b"ACME FERRIES\nTERMS\n\n1. TICKETS\n1.1 A ticket is valid for one day.\n\n"
                      b"NOTE THAT PRICES CHANGE.\nAsk us.", IngestConfig()).text
    assert "## 1. TICKETS\n1.1 A ticket" in clauses  # a numbered title right above its first clause
    assert "## ACME" not in clauses and "## NOTE" not in clauses  # a title block, a shouted sentence: as written


def test_price_list_leader_dots_keep_each_label_with_its_value():
    text = extract("fees.txt", ("BERTHS\n\n  Annual berth (12 months) .... £410 per metre\n"
                                "  Pump-out . . . . . free to berth holders\nContents ........ 3\n"
                                "See p. 3... and more\n").encode(), IngestConfig()).text
    assert "- Annual berth (12 months): £410 per metre" in text and "- Pump-out: free to berth holders" in text
    assert "Contents ........ 3" in text and "See p. 3... and more" in text  # page numbers and ellipses stay


@pytest.mark.parametrize("name,data,error_type,message", [
    ("empty.txt", b"", "UnsupportedDocument", "empty"),
    ("fake.pdf", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4, "CorruptDocument", "not a PDF"),
    ("fake.docx", bytes(range(256)) * 4, "CorruptDocument", "not a readable DOCX"),
    ("notdocx.docx", zip_bytes({"hello.txt": b"not a word file"}), "CorruptDocument", "not a readable DOCX"),
    ("truncated.pdf", pdf_bytes(["Hello world"])[:300], "CorruptDocument", "damaged or truncated"),
    ("nuls.txt", b"\x00" * 100, "CorruptDocument", "only NUL bytes"),
    ("x.exe", b"MZ...", "UnsupportedDocument", "not supported"),
])
def test_bad_inputs_give_one_clear_error_row(project, name, data, error_type, message):
    row = ingest_bytes(project, name, data, IngestConfig())
    assert row["status"] == "error" and row["error_type"] == error_type
    assert message in row["error"] and "\n" not in row["error"]
    assert project.sources() == []


def encrypted_pdf(user_password: str, algorithm: str) -> bytes:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf_bytes(["The locker code is 4711."]))))
    writer.encrypt(user_password, "owner-secret", algorithm=algorithm)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


@pytest.mark.parametrize("algorithm", ["AES-256", "AES-128", "RC4-128"])
def test_encrypted_pdfs_open_with_the_empty_password_or_say_a_password_is_needed(project, algorithm, capsys, caplog):
    caplog.set_level(logging.DEBUG)
    readable, locked = encrypted_pdf("", algorithm), encrypted_pdf("user-secret", algorithm)
    if algorithm == "AES-256":
        encrypt = PdfReader(io.BytesIO(locked)).trailer["/Encrypt"]
        assert (encrypt["/V"], encrypt["/R"]) == (5, 6)
    row = ingest_bytes(project, "readable.pdf", readable, IngestConfig())
    assert row["status"] == "ok" and row["pages"] == 1
    assert "locker code is 4711" in (project.extracted_dir / f"{row['source_id']}.md").read_text()
    row = ingest_bytes(project, "locked.pdf", locked, IngestConfig())
    assert row["error_type"] == "EncryptedDocument" and row["error"].startswith("encrypted (password required)")
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err + captured.out + caplog.text
    assert len(project.sources()) == 1


def test_aes_pdf_without_cryptography_is_a_clear_error_without_traceback(project, monkeypatch, capsys, caplog):
    """pypdf raises DependencyError while opening an AES file when cryptography is missing."""
    def reader_without_cryptography(stream):
        raise DependencyError("cryptography>=3.1 is required for AES algorithm")

    caplog.set_level(logging.DEBUG)
    monkeypatch.setattr("builder.ingest.pdf.PdfReader", reader_without_cryptography)
    row = ingest_bytes(project, "aes.pdf", encrypted_pdf("", "AES-256"), IngestConfig())
    assert row["error_type"] == "EncryptedDocument" and "pip install cryptography" in row["error"]
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err + captured.out + caplog.text


def test_image_only_pdf(project):
    writer = PdfWriter()
    for _ in range(3):
        writer.add_blank_page(200, 200)
    buffer = io.BytesIO()
    writer.write(buffer)
    row = ingest_bytes(project, "scan.pdf", buffer.getvalue(), IngestConfig())
    assert row["error_type"] == "NoTextExtracted" and "no text extracted from 3 pages" in row["error"]


def test_docx_zip_bomb_and_archive_limits(project):
    bomb = zip_bytes({"word/document.xml": b"\x00" * 20_000_000})
    row = ingest_bytes(project, "bomb.docx", bomb, IngestConfig())
    assert row["error_type"] == "DocumentTooLarge" and "zip bomb" in row["error"]
    many = zip_bytes({f"f{i}.txt": b"hello there" for i in range(30)})
    (project.root / "many.zip").write_bytes(many)
    rows = ingest_paths(project, [project.root / "many.zip"], IngestConfig(max_archive_entries=10))
    assert rows[0]["error_type"] == "DocumentTooLarge" and "30 entries" in rows[0]["error"]
    rows = ingest_paths(project, [project.root / "many.zip"], IngestConfig(max_file_bytes=100))
    assert "limit" in rows[0]["error"]


def test_zip_with_unsafe_paths_keeps_the_good_members(project, tmp_path):
    archive = tmp_path / "docs.zip"
    archive.write_bytes(zip_bytes({"../evil.txt": b"escape attempt", "/etc/abs.txt": b"absolute path",
                                   "C:/win.txt": b"drive letter", "ok/good.md": b"# Good\n\nKept text.",
                                   "ok/empty.txt": b"", "inner.zip": zip_bytes({"a.txt": b"nested"})}))
    rows = ingest_paths(project, [archive], IngestConfig())
    by_name = {r["name"]: r for r in rows}
    assert by_name["docs.zip › ok/good.md"]["status"] == "ok"
    assert sum("unsafe path" in r.get("error", "") for r in rows) == 3
    assert by_name["docs.zip › ok/empty.txt"]["status"] == "error"
    assert "inside archives" in by_name["docs.zip › inner.zip"]["error"]
    assert not (tmp_path / "evil.txt").exists() and not (project.root.parent / "evil.txt").exists()
    stored = list(project.sources_dir.iterdir())
    assert len(stored) == 1 and stored[0].name.endswith(".md")


def test_zip_members_keep_the_archive_name_and_one_bad_member_never_stops_the_batch(project, tmp_path, capsys):
    (tmp_path / "handbook.zip").write_bytes(zip_bytes({
        "policies/leave.md": b"# Leave\n\nStaff get 25 days of annual leave.",
        "policies/logo.png": b"\x89PNG\r\n\x1a\n" + bytes(range(256)),
        "rota.txt": b"The depot opens at 07:00 on weekdays."}))
    (tmp_path / "notes.md").write_text("# Notes\n\nBikes are checked every month.", encoding="utf-8")
    rows = ingest_paths(project, [tmp_path / "handbook.zip", tmp_path / "notes.md"], IngestConfig())
    status = {r["name"]: r["status"] for r in rows}
    assert status == {"handbook.zip › policies/leave.md": "ok", "handbook.zip › policies/logo.png": "error",
                      "handbook.zip › rota.txt": "ok", "notes.md": "ok"}
    assert "'.png' files are not supported" in rows[1]["error"]
    names = sorted(s.original_name for s in project.sources())  # what the wizard's table shows
    assert names == ["handbook.zip › policies/leave.md", "handbook.zip › rota.txt", "notes.md"]
    cmd_ingest(argparse.Namespace(project=project.root, paths=[tmp_path / "handbook.zip"]))
    out = capsys.readouterr().out
    assert "ok     handbook.zip › policies/leave.md: 1 pages" in out
    assert "error  handbook.zip › policies/logo.png: '.png' files are not supported" in out


def test_max_pages_limit(project):
    row = ingest_bytes(project, "long.pdf", pdf_bytes(["a page"] * 3), IngestConfig(max_pages=2))
    assert row["error_type"] == "DocumentTooLarge" and "3 pages" in row["error"]


def test_hostile_file_names_are_display_only(project):
    cfg = IngestConfig()
    for i, name in enumerate(["../../outside.txt", "Préface—日本語.md", "x" * 300 + ".txt"]):
        row = ingest_bytes(project, name, f"Some harmless text content {i}.".encode(), cfg)
        assert row["status"] == "ok" and "/" not in row["name"] and len(row["name"]) <= 120
    names = [s.original_name for s in project.sources()]
    assert "Préface—日本語.md" in names and "outside.txt" in names
    assert sorted(p.suffix for p in project.sources_dir.iterdir()) == [".md", ".txt", ".txt"]
    assert all(len(p.name) <= 24 for p in project.sources_dir.iterdir())
    assert not (project.root.parent / "outside.txt").exists()


def test_fifty_megabyte_single_line_is_bounded(project, tmp_path):
    big = tmp_path / "huge.txt"
    big.write_bytes(b"word " * 10_000_000)  # 50 MB, one line
    good = tmp_path / "good.md"
    good.write_text("# Ok\n\nStill ingested.", encoding="utf-8")
    tracemalloc.start()
    started = time.perf_counter()
    rows = ingest_paths(project, [big, good], IngestConfig(max_file_bytes=60_000_000))
    elapsed = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert rows[0]["error_type"] == "DocumentTooLarge" and "max_text_chars" in rows[0]["error"]
    assert rows[1]["status"] == "ok"
    assert elapsed < 10 and peak < 400_000_000


def test_docx_with_broken_xml_is_an_error_row_and_the_batch_goes_on(project, tmp_path):
    buffer = io.BytesIO()
    docx.Document().save(buffer)
    damaged = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(buffer.getvalue())) as src, zipfile.ZipFile(damaged, "w") as dst:
        for info in src.infolist():
            body = b"<w:document><unclosed" if info.filename == "word/document.xml" else src.read(info)
            dst.writestr(info, body)
    (tmp_path / "broken.docx").write_bytes(damaged.getvalue())
    (tmp_path / "good.md").write_text("# Hours\n\nThe depot opens at 07:00 on weekdays.\n")
    rows = {r["name"]: r for r in ingest_paths(project, [tmp_path])}
    assert rows["broken.docx"]["status"] == "error" and rows["broken.docx"]["error_type"] == "CorruptDocument"
    assert "DOCX" in rows["broken.docx"]["error"]
    assert rows["good.md"]["status"] == "ok" and len(project.sources()) == 1
