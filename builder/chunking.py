"""Split extracted Markdown into token-bounded, heading-aware chunks.

    chunks = chunk_project(project, tokenizer)          # writes chunks.jsonl
    chunks = chunk_sources(project)                     # the same, with the base model's tokenizer

First the text is cut at Markdown headings (each section remembers its heading path, e.g.
``["Fees", "Late payment"]``; headings inside fenced code blocks are not headings). Then each
section is split with langchain-text-splitters' ``RecursiveCharacterTextSplitter`` (paragraphs,
then lines, sentences, words) to at most ``chunk_tokens`` tokens of the chosen model's
tokenizer with about ``overlap_tokens`` of overlap.

Token counting is done in bulk: the splitter works on characters, sized from the document's
own measured characters-per-token, and every resulting piece is then tokenized in one batch;
the rare piece still over the limit is split again by exact token count. This keeps chunking
linear in the document length (a multi-megabyte single-line file stays bounded in time), where
tokenizing every candidate split would be quadratic. Chunk ids are content hashes, so
re-chunking the same text gives the same ids and review decisions stay attached to them.
"""

import re

from langchain_text_splitters import RecursiveCharacterTextSplitter

from .config import ChunkConfig
from .models import load_tokenizer
from .project import Project
from .records import Chunk, chunk_id

_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
_FENCE = re.compile(r"^\s*(```|~~~)")
_SEPARATORS = ["\n\n", "\n", ". ", "; ", ", ", " ", ""]
SAMPLE_CHARS = 20_000  # characters tokenized to measure a document's characters per token


def split_sections(markdown: str) -> list[tuple[list[str], str]]:
    """``(heading_path, body)`` for each heading section, in order; empty bodies are dropped."""
    sections: list[tuple[list[str], str]] = []
    path: list[tuple[int, str]] = []
    body: list[str] = []
    in_fence = False

    def flush() -> None:
        text = "\n".join(body).strip()
        if text:
            sections.append(([title for _, title in path], text))
        body.clear()

    for line in markdown.split("\n"):
        if _FENCE.match(line):
            in_fence = not in_fence
        match = None if in_fence else _HEADING.match(line)
        if match:
            flush()
            level = len(match.group(1))
            path = [(lvl, title) for lvl, title in path if lvl < level] + [(level, match.group(2))]
        else:
            body.append(line)
    flush()
    return sections


def chars_per_token(markdown: str, tokenizer) -> float:
    """Measured characters per token on the start of the document (at least 1)."""
    sample = markdown[:SAMPLE_CHARS]
    n_tokens = len(tokenizer(sample, add_special_tokens=False)["input_ids"]) if sample else 0
    return max(1.0, len(sample) / max(n_tokens, 1))


def chunk_markdown(source_id: str, markdown: str, tokenizer, chunk_cfg: ChunkConfig) -> list[Chunk]:
    """Return the chunks of one document as ``chunks.jsonl`` rows."""
    ratio = chars_per_token(markdown, tokenizer)
    splitter = RecursiveCharacterTextSplitter(
        chunk_size=int(chunk_cfg.chunk_tokens * ratio * 0.9), chunk_overlap=int(chunk_cfg.overlap_tokens * ratio),
        separators=_SEPARATORS, keep_separator="end")
    pieces = [(path, piece.strip()) for path, body in split_sections(markdown)
              for piece in splitter.split_text(body) if piece.strip()]
    counts = token_counts([text for _, text in pieces], tokenizer)
    chunks = []
    for (path, text), n_tokens in zip(pieces, counts):
        if n_tokens > chunk_cfg.chunk_tokens:
            chunks.extend(resplit_by_tokens(source_id, path, text, tokenizer, chunk_cfg))
        else:
            chunks.append(make_chunk(source_id, path, text, n_tokens))
    return chunks


def token_counts(texts: list[str], tokenizer, batch: int = 256) -> list[int]:
    """Token count of each text (batched calls to the tokenizer)."""
    counts: list[int] = []
    for start in range(0, len(texts), batch):
        ids = tokenizer(texts[start:start + batch], add_special_tokens=False)["input_ids"]
        counts.extend(len(row) for row in ids)
    return counts


def resplit_by_tokens(source_id: str, path: list[str], text: str, tokenizer, chunk_cfg: ChunkConfig) -> list[Chunk]:
    """Split an over-long piece by exact token counts (only pieces the estimate got wrong)."""
    splitter = RecursiveCharacterTextSplitter.from_huggingface_tokenizer(
        tokenizer, chunk_size=chunk_cfg.chunk_tokens, chunk_overlap=chunk_cfg.overlap_tokens, separators=_SEPARATORS)
    pieces = [p.strip() for p in splitter.split_text(text) if p.strip()]
    return [make_chunk(source_id, path, p, n) for p, n in zip(pieces, token_counts(pieces, tokenizer))]


def make_chunk(source_id: str, heading_path: list[str], text: str, n_tokens: int) -> Chunk:
    """One chunk with a stable content-hash id and its token count."""
    return Chunk(id=chunk_id(source_id, heading_path, text), source_id=source_id, heading_path=heading_path,
                 text=text, tokens=n_tokens)


def chunk_project(project: Project, tokenizer, chunk_cfg: ChunkConfig | None = None) -> list[Chunk]:
    """(Re)chunk every ingested source of the project and save ``chunks.jsonl``."""
    chunk_cfg = chunk_cfg or project.load_config().chunk
    chunks: list[Chunk] = []
    for source in project.sources():
        path = project.extracted_dir / f"{source.id}.md"
        if path.exists():
            chunks.extend(chunk_markdown(source.id, path.read_text(encoding="utf-8"), tokenizer, chunk_cfg))
    unique = list({chunk.id: chunk for chunk in chunks}.values())
    project.save_chunks(unique)
    return unique


def chunk_sources(project: Project) -> list[Chunk]:
    """(Re)chunk the project with the tokenizer of its base model and its chunk settings."""
    project_cfg = project.load_config()
    return chunk_project(project, load_tokenizer(project_cfg.train.base_model), project_cfg.chunk)
