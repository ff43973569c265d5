"""The chat messages that ask a teacher model for pairs about one chunk.

    messages = render_messages(chunk, pairs_cfg)     # system + user chat messages for one chunk

The prompt template (``pairs_cfg.template``) and the domain preset (``pairs_cfg.domain``) are
loaded from ``templates/`` (``builder.templates``). The passage is inserted after its control
tokens were made inert, inside ``<passage>`` tags that the prompt declares to be data.
"""

from string import Template

from ..config import PairsConfig
from ..records import Chunk
from ..templates import load_domain, load_template
from .validate import neutralize_control_tokens


def render_messages(chunk: Chunk, pairs_cfg: PairsConfig) -> list[dict]:
    """The chat messages that ask a teacher for pairs about one chunk."""
    template, domain = load_template(pairs_cfg.template), load_domain(pairs_cfg.domain)
    values = {"passage": neutralize_control_tokens(chunk.text), "heading": chunk.heading or "the documents",
              "max_pairs": str(pairs_cfg.max_pairs_per_chunk),
              "question_styles": "; ".join(domain.question_styles), "answer_style": domain.answer_style,
              "domain_system": domain.system_prompt, "domain": domain.name}
    return [{"role": "system", "content": Template(template.system).substitute(values).strip()},
            {"role": "user", "content": Template(template.user).substitute(values).strip()}]
