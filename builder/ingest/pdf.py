"""PDF via pypdf: text per page; encrypted, image-only and damaged files give typed errors."""

import io

from pypdf import PdfReader
from pypdf.errors import PdfReadError

from ..config import IngestConfig
from ..errors import CorruptDocument, DocumentTooLarge, EncryptedDocument, NoTextExtracted
from .base import ExtractedDocument, register
from .text import promote_headings


@register(".pdf")
def parse_pdf(data: bytes, cfg: IngestConfig) -> ExtractedDocument:
    if not data.lstrip()[:5].startswith(b"%PDF-"):
        raise CorruptDocument("not a PDF file (the content does not start with %PDF-)")
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise EncryptedDocument("the PDF is password-protected: remove the password and upload it again")
        pages = reader.pages
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
    return ExtractedDocument(text=promote_headings(text, numbered=True),
                             pages=len(texts), warnings=warnings)
