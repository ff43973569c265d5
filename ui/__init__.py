"""The Gradio wizard (``ui.app``) and the chat-only share app (``ui.demo``)."""
