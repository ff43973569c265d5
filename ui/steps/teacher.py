"""The Pairs step's teacher setup: which generator writes the pairs, and its model or endpoint.

    parts = build(root)        # inside the Pairs tab: the widgets, shown for the chosen generator
    parts["fields"]            # [generator, teacher_model, base_url, api_model, api_key_env] for handlers
    settings(root)             # their saved values (page load) for parts["settings"], the right section shown

A local teacher is any Hub id or model folder (the bundled model is marked as a way to try
the flow). An endpoint is a base URL, a model name and the *name* of the environment variable
holding its key; "Test connection" saves the settings, lists the endpoint's models or says
exactly what failed, and never raises: the answer appears under the button.
"""

from pathlib import Path

import gradio as gr

from builder.errors import BuilderError
from builder.pairs import GENERATORS
from builder.pairs.endpoint import check_endpoint
from builder.pairs.teacher_setup import BUNDLED_NOTE, check_teacher, is_bundled, with_teacher
from builder.project import Project

LABELS = {"rules": "Rules: offline and instant, simple questions",
          "local": "Local teacher model (runs on this computer)",
          "openai": "OpenAI-compatible endpoint (Ollama, vLLM, llama.cpp, OpenAI, dab serve)"}
BUNDLED_CHOICE = (f"Bundled SmolLM2-135M ({BUNDLED_NOTE})", "bundled")
URL_INFO = ("Ollama http://127.0.0.1:11434/v1 · vLLM and dab serve http://HOST:8000/v1 · "
            "llama.cpp http://HOST:8080/v1 · OpenAI https://api.openai.com/v1")


def generator_choices() -> list[tuple[str, str]]:
    return [(LABELS.get(name, name), name) for name in sorted(GENERATORS)]


def sections(generator: str) -> tuple:
    """Show the local-model section or the endpoint section, and the check, as the generator needs."""
    return (gr.Group(visible=generator == "local"), gr.Group(visible=generator == "openai"),
            gr.Group(visible=generator in {"local", "openai"}))


def save_teacher(root: str, generator: str, teacher_model: str, base_url: str, api_model: str,
                 api_key_env: str) -> Project:
    """Validate the teacher fields and write them into project.yaml (ConfigError when one is wrong)."""
    project = Project.open(Path(root))
    project_cfg = project.load_config()
    project_cfg.pairs = with_teacher(project_cfg.pairs, generator=generator, teacher_model=teacher_model,
                                     base_url=base_url, api_model=api_model or "", api_key_env=api_key_env or "")
    project.save_config(project_cfg)
    return project


def on_test(root: str, generator: str, teacher_model: str, base_url: str, api_model: str, api_key_env: str):
    """Save the settings, then check the teacher: the verdict and (endpoints) the models to choose
    from, the one shown chosen and saved."""
    try:
        pairs_cfg = save_teacher(root, generator, teacher_model, base_url, api_model, api_key_env).load_config().pairs
        if pairs_cfg.generator != "openai":
            return f"✅ {check_teacher(pairs_cfg)}", gr.Dropdown()
        check = check_endpoint(pairs_cfg)
        chosen = check.model or (check.models or [""])[0]
        if chosen != pairs_cfg.api_model:
            save_teacher(root, generator, teacher_model, base_url, chosen, api_key_env)
    except BuilderError as exc:
        return f"❌ {exc}", gr.Dropdown()
    return f"✅ {check.message}", gr.Dropdown(choices=check.models, value=chosen)


def settings(root: str) -> tuple:
    """The saved generator and teacher settings, with the matching section shown."""
    pc = Project.open(Path(root)).load_config().pairs
    model = "bundled" if is_bundled(pc.teacher_model) else pc.teacher_model
    models = [BUNDLED_CHOICE] + ([] if model == "bundled" else [(model, model)])
    served = [pc.api_model] if pc.api_model else []
    return (pc.generator, gr.Dropdown(choices=models, value=model), pc.base_url,
            gr.Dropdown(choices=served, value=pc.api_model), pc.api_key_env, *sections(pc.generator))


def build(root: gr.State) -> dict:
    generator = gr.Dropdown(generator_choices(), value="rules", label="Generator", elem_id="pairs-generator",
                            info="'Rules' works offline and instantly; a teacher model writes more natural pairs")
    with gr.Group(visible=False) as local_box:
        teacher_model = gr.Dropdown([BUNDLED_CHOICE], value="bundled", allow_custom_value=True, label="Teacher model",
                                    elem_id="teacher-model",
                                    info="Any chat model: a Hub id (e.g. Qwen/Qwen2.5-7B-Instruct) or a local folder")
    with gr.Group(visible=False) as endpoint_box:
        with gr.Row():
            base_url = gr.Textbox(label="Endpoint base URL", info=URL_INFO, elem_id="teacher-base-url", scale=3)
            api_model = gr.Dropdown([], label="Model name", allow_custom_value=True, elem_id="teacher-api-model",
                                    info="Test connection lists the models the endpoint serves", scale=2)
            api_key_env = gr.Textbox(label="Environment variable holding the API key", elem_id="teacher-key-env",
                                     info="Its NAME, e.g. OPENAI_API_KEY, set where this wizard runs; the key "
                                          "itself is never stored. Empty: no key (local servers).", scale=2)
    with gr.Group(visible=False) as check_box:
        test = gr.Button("Test connection", elem_id="teacher-test", size="sm")
        verdict = gr.Markdown(elem_id="teacher-verdict")
    fields = [generator, teacher_model, base_url, api_model, api_key_env]
    boxes = [local_box, endpoint_box, check_box]
    generator.change(sections, [generator], boxes, api_visibility="private")
    test.click(on_test, [root, *fields], [verdict, api_model], api_name="test_teacher")
    return {"fields": fields, "settings": [*fields, *boxes]}
