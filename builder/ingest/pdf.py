"""PDF via pypdf: text per page; encrypted, image-only and damaged files give typed errors.

An encrypted PDF that opens without a password (only an owner password set, common for
"protected" forms and reports) is read like any other, RC4 or AES (AES needs the
``cryptography`` package, a dependency of this project); one that needs a password to open
is reported as "encrypted (password required)".
"""

import io

from pypdf import PasswordType, PdfReader
from pypdf.errors import DependencyError, PdfReadError

from ..config import IngestConfig
from ..errors import CorruptDocument, DocumentTooLarge, EncryptedDocument, NoTextExtracted
from .base import ExtractedDocument, register
from .text import leader_lines, promote_headings


@register(".pdf")
def parse_pdf(data: bytes, cfg: IngestConfig) -> ExtractedDocument:
    if not data.lstrip()[:5].startswith(b"%PDF-"):
        raise CorruptDocument("not a PDF file (the content does not start with %PDF-)")
    try:
        pages = open_pdf(data).pages
        if len(pages) > cfg.max_pages:
            raise DocumentTooLarge(f"the PDF has {len(pages)} pages; the limit is {cfg.max_pages}")
        texts = [page.extract_text() or "" for page in pages]
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise CorruptDocument(f"the PDF is damaged or truncated ({type(exc).__name__})") from exc
    warnings = []
    empty = sum(1 for t in texts if not t.strip())
    if empty == len(texts):
        raise NoTextExtracted(f"no text extracted from {len(texts)} pages (scanned images? run OCR first)")
    if empty:
        warnings.append(f"no text on {empty} of {len(texts)} pages (images only?)")
    text = "\n\n".join(t.strip() for t in texts if t.strip())
    return ExtractedDocument(text=promote_headings(leader_lines(text), numbered=True),
                             pages=len(texts), warnings=warnings)


def open_pdf(data: bytes) -> PdfReader:
    """A reader for the PDF, decrypted when it opens with the empty password (pypdf tries it)."""
    try:
        reader = PdfReader(io.BytesIO(data))
    except DependencyError as exc:  # AES without the cryptography package installed
        raise EncryptedDocument("the PDF is encrypted with AES, and reading it needs the 'cryptography' "
                                "package (pip install cryptography)") from exc
    if reader.is_encrypted and reader.decrypt("") == PasswordType.NOT_DECRYPTED:
        raise EncryptedDocument("encrypted (password required): open it with its password, save a copy "
                                "without one, and add that copy")
    return reader
