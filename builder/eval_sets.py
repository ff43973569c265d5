"""The questions an evaluation asks: recall, unseen passages, and questions the documents do not answer.

    sets = evaluation_sets(project, run)                 # the run's held-out pairs (or the sample's own)
    sets = evaluation_sets(project, run, references)     # hand-written questions replace the recall set
    sets = evaluation_sets(project, run, references, unanswerable)   # ... and the unanswerable ones
    sets.recall, sets.unseen, sets.unanswerable          # lists of {"question", "answer", ...} rows
    example_questions(project, run, 3)                   # a few of them, to show what the assistant knows

- **recall**: held-out phrasings of facts the run trained on (``splits``, recorded by the run in
  ``heldout.jsonl``): what users will ask. The sample project uses its hand-written questions
  (``templates/samples/heldout.jsonl``), whose facts are all in its documents.
- **unseen**: pairs of passages the run never trained on (``splits.unseen``).
- **unanswerable**: questions in the documents' domain that they do not answer. The sample has
  hand-written ones; other projects get ``out_of_scope_questions``: everyday questions about the
  organisation (its Wi-Fi password, its share price, ...) kept only when no word of the topic
  appears anywhere in the documents.

Each set is capped (``MAX_PER_SET``), taken evenly across the set so every document has a say.
"""

from dataclasses import dataclass, field

from .pairs.topics import document_topics
from .project import Project
from .records import Pair, words
from .runs import Run
from .templates import sample_heldout, sample_unanswerable

MAX_PER_SET = {"recall": 40, "unseen": 16, "unanswerable": 10}
OUT_OF_SCOPE = (  # (question with {org}, the words that would make it answerable if a document used them)
    ("What is the Wi-Fi password at {org}?", "wifi wi fi password"),
    ("What is the share price of {org} on the stock exchange?", "share price stock exchange"),
    ("Which football team does {org} sponsor?", "football sponsor"),
    ("What is the recipe for the cake served at {org}'s annual dinner?", "recipe cake dinner"),
    ("How tall is {org}'s head office building in metres?", "tall metres building"),
    ("Which airline does {org} use for business travel?", "airline business travel"),
    ("What is the name of {org}'s mascot?", "mascot"),
    ("What colour are the carpets in {org}'s head office?", "colour carpets"),
    ("Which radio station does {org} advertise on?", "radio station advertise"),
    ("What is the dress code for {org}'s summer party?", "dress code summer party"),
    ("How many languages does {org}'s chief executive speak?", "languages chief executive speak"),
    ("What is {org}'s favourite charity for the annual bake sale?", "charity bake sale"),
)


@dataclass
class EvalSets:
    recall: list[dict] = field(default_factory=list)
    unseen: list[dict] = field(default_factory=list)
    unanswerable: list[dict] = field(default_factory=list)

    def items(self) -> list[tuple[str, list[dict]]]:
        return [("recall", self.recall), ("unseen", self.unseen), ("unanswerable", self.unanswerable)]


def evaluation_sets(project: Project, run: Run | None, references: list[dict] | None = None,
                    unanswerable: list[dict] | None = None) -> EvalSets:
    """The three sets for ``run`` (see the module docstring), each capped."""
    held = run.heldout() if run is not None else {"recall": [], "unseen": []}
    is_sample = project.load_config().name == "sample"
    recall = references or (sample_heldout() if is_sample else [reference(p) for p in held["recall"]])
    if unanswerable is None:
        unanswerable = sample_unanswerable() if is_sample else out_of_scope_questions(project)
    return EvalSets(recall=spread(recall, MAX_PER_SET["recall"]),
                    unseen=spread([reference(p) for p in held["unseen"]], MAX_PER_SET["unseen"]),
                    unanswerable=spread(unanswerable, MAX_PER_SET["unanswerable"]))


def example_questions(project: Project, run: Run | None, n: int = 3) -> list[str]:
    """Up to ``n`` held-out questions (recall first, then unseen), spread across the documents."""
    sets = evaluation_sets(project, run, unanswerable=[])
    questions = list(dict.fromkeys(ref["question"] for ref in sets.recall + sets.unseen))
    return spread(questions, n)


def reference(pair: Pair) -> dict:
    """A pair as an evaluation reference: the question, the answer, its passage and the
    sentence the answer quotes (``generation.states_facts`` checks the direct answer's facts)."""
    return {"question": pair.question, "answer": pair.answer, "chunk_id": pair.chunk_id,
            "evidence": (pair.evidence or {}).get("text", "")}


def out_of_scope_questions(project: Project) -> list[dict]:
    """Everyday questions about the organisation whose topic words no document uses."""
    chunks = project.chunks()
    used = {w for chunk in chunks for w in words(chunk.text)}
    orgs = [t.org for t in document_topics(chunks).values() if t.org] if chunks else []
    org = max(set(orgs), key=orgs.count) if orgs else "the organisation"
    return [{"question": question.format(org=org), "answer": ""} for question, topic in OUT_OF_SCOPE
            if not set(topic.split()) & used]


def spread(items: list, n: int) -> list:
    """At most ``n`` items taken evenly across ``items``."""
    if len(items) <= n:
        return list(items)
    return [items[i * len(items) // n] for i in range(n)]
