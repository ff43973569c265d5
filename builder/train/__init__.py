"""Fine-tuning: data (``data``), recipe, presets, checkpoints, the loop and the subprocess runner.

    status = run_training(project)                 # in this process
    run = start_training(project)                  # in a background process (see ``runner``)
    python -m builder.train --project P            # the training process itself (see ``entry``)
"""

from .loop import run_training

__all__ = ["run_training"]
