"""Fine-tuning: data (``data``), recipe, presets, checkpoints, the loop and the subprocess runner.

    status = run_training(project)                 # in this process
    run_dir = start_training(project)              # in a background process (see ``runner``)
"""

from .loop import STOP_FILE, run_training

__all__ = ["STOP_FILE", "run_training"]
