"""Split extracted Markdown into token-bounded, heading-aware chunks.

First the text is cut at Markdown headings (each piece remembers its heading path, e.g.
``["Fees", "Late payment"]``), then each piece is split to at most ``chunk_tokens`` tokens of
the chosen model's tokenizer with ``overlap_tokens`` of overlap, using
langchain-text-splitters. Chunk ids are content hashes, so re-chunking the same text gives the
same ids and review decisions stay attached to their chunks.
"""

import hashlib

from langchain_text_splitters import MarkdownHeaderTextSplitter, RecursiveCharacterTextSplitter

from .config import ChunkConfig
from .project import Project

_HEADERS = [("#" * level, f"h{level}") for level in range(1, 7)]


def chunk_markdown(source_id: str, markdown: str, tokenizer, cfg: ChunkConfig) -> list[dict]:
    """Return the chunks of one document as ``chunks.jsonl`` rows."""
    sections = MarkdownHeaderTextSplitter(_HEADERS, strip_headers=True).split_text(markdown)
    splitter = RecursiveCharacterTextSplitter.from_huggingface_tokenizer(
        tokenizer, chunk_size=cfg.chunk_tokens, chunk_overlap=cfg.overlap_tokens)
    chunks = []
    for section in sections:
        heading_path = [section.metadata[key] for _, key in _HEADERS if key in section.metadata]
        for piece in splitter.split_text(section.page_content):
            piece = piece.strip()
            if piece:
                chunks.append(make_chunk(source_id, heading_path, piece, tokenizer))
    return chunks


def make_chunk(source_id: str, heading_path: list[str], text: str, tokenizer) -> dict:
    """One chunk row with a stable content-hash id and its token count."""
    key = "\x1f".join([source_id, *heading_path, text]).encode("utf-8")
    return {"id": hashlib.sha256(key).hexdigest()[:16], "source_id": source_id,
            "heading_path": heading_path, "text": text,
            "tokens": len(tokenizer(text, add_special_tokens=False)["input_ids"])}


def chunk_project(project: Project, tokenizer, cfg: ChunkConfig | None = None) -> list[dict]:
    """(Re)chunk every ingested source of the project and save ``chunks.jsonl``."""
    cfg = cfg or project.load_config().chunk
    chunks: list[dict] = []
    for source in project.sources():
        path = project.extracted_dir / f"{source['id']}.md"
        if path.exists():
            chunks.extend(chunk_markdown(source["id"], path.read_text(encoding="utf-8"), tokenizer, cfg))
    unique = list({chunk["id"]: chunk for chunk in chunks}.values())
    project.save_chunks(unique)
    return unique
