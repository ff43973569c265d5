"""What a document states: statements, their key facts, and how much of them answers cover.

Low level (no torch, no Gradio): the pairs generators and the evaluation both use it.

    from builder.facts import split_statements, informative_statements, coverage, key_facts, fact_in_answer

    statements = split_statements(chunk.text, chunk.heading_path)   # sentences, items, rows, steps
    facts = informative_statements(statements)                            # the ones worth asking about
    facts[0].facts                                   # [KeyFact(kind='money', text='€6.00', ...), ...]
    coverage(statements, answers).ratio              # share of informative statements in some answer
    fact_in_answer(key_facts("€96.00")[0], "It is €96 a year.")   # True ("fact accuracy")
    language_problem(chunk.text)                  # None for English, else why it is skipped

Modules: ``statements`` (Markdown -> statements), ``keyfacts`` (key facts and tolerant
matching), ``inventory`` (informative statements, coverage, language check), ``words``
(English word classes from lemminflect's lexicon, no model download).
"""

from .inventory import (ChunkStatements, Coverage, content_words, coverage, covers, informative_statements,
                        language_problem, read_chunks, uninformative_reason)
from .keyfacts import KeyFact, answer_key_facts, fact_in_answer, key_facts, missing_facts
from .statements import (Statement, clean_heading, is_listed_thing, last_table_header, names_days, plain,
                         split_statements)

__all__ = ["ChunkStatements", "Coverage", "KeyFact", "Statement", "answer_key_facts", "clean_heading", "content_words", "coverage",
           "covers", "fact_in_answer", "informative_statements", "is_listed_thing", "key_facts", "language_problem",
           "last_table_header", "missing_facts", "names_days", "plain", "read_chunks", "split_statements", "uninformative_reason"]
