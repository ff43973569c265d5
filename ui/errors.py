"""Turn exceptions into friendly messages: the user never sees a Python traceback.

``friendly`` wraps a handler (plain function or generator). A ``BuilderError`` becomes its own
one-line message; anything unexpected becomes a short notice, with the traceback logged to the
terminal for whoever runs the app.
"""

import functools
import inspect
import logging

import gradio as gr

from builder.errors import BuilderError

log = logging.getLogger("dab.ui")


def to_gr_error(exc: Exception) -> gr.Error:
    if isinstance(exc, BuilderError):
        return gr.Error(str(exc))
    log.exception("unexpected error in a UI handler")
    return gr.Error(f"Something went wrong ({type(exc).__name__}: {str(exc)[:200]}). "
                    "Details are in the terminal running the app.")


def friendly(handler):
    """Decorator for Gradio handlers: errors become ``gr.Error`` with a plain message."""
    if inspect.isgeneratorfunction(handler):
        @functools.wraps(handler)
        def gen_wrapper(*args, **kwargs):
            try:
                yield from handler(*args, **kwargs)
            except gr.Error:
                raise
            except Exception as exc:  # noqa: BLE001  (shown to the user, logged in full)
                raise to_gr_error(exc) from exc
        return gen_wrapper

    @functools.wraps(handler)
    def wrapper(*args, **kwargs):
        try:
            return handler(*args, **kwargs)
        except gr.Error:
            raise
        except Exception as exc:  # noqa: BLE001  (shown to the user, logged in full)
            raise to_gr_error(exc) from exc
    return wrapper
