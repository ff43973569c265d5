"""Fine-tuning: data preparation (``data``) and the LoRA / QLoRA training loop (``loop``)."""

from .loop import STOP_FILE, run_training

__all__ = ["STOP_FILE", "run_training"]
