"""Domain Assistant Builder core: documents -> grounded pairs -> LoRA fine-tune -> evaluate -> chat.

This package never imports Gradio, and imports torch/transformers only inside the functions
that need them, so ``import builder`` is instant and works in notebooks and on GPU servers.
"""

__version__ = "0.1.0"
