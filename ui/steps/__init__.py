"""One module per wizard step; each exposes ``build(project_root: gr.State)``."""
