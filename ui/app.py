"""The browser wizard: Documents → Pairs → Train → Evaluate & Chat → Share.

    dab ui --sample                 # the sample project, bundled model
    dab ui --project PATH           # any project folder (its parent folder lists the others)

Each step is a tab built by a module in ``ui/steps``; handlers turn widget values into builder
calls and show errors as plain messages. All state lives in the project folder, so a reload or
a restart picks up where the user was (the last project opened is remembered too).

Security: the wizard binds to 127.0.0.1 unless ``--host`` says otherwise (with a warning: it has
no password), and refuses requests whose Host header is not that address (``guard``: a web page
that rebinds its own domain to 127.0.0.1 cannot read the wizard). Uploads are capped (``max_file_bytes``) and stored under generated names; Gradio's
file route serves only its own upload cache and the projects folder; the cache is cleaned
hourly (``delete_cache``); analytics are off.
"""

import logging
import os
from pathlib import Path

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import gradio as gr  # noqa: E402

from builder.config import IngestConfig  # noqa: E402
from builder.documents import create_sample_project  # noqa: E402
from builder.project import Project, default_home, list_projects, new_project  # noqa: E402

from . import datasets, projects  # noqa: E402
from .guard import AllowedHosts, guard_kwargs  # noqa: E402
from .progress import LABELS, WIZARD_STEPS, current_step, progress_html, project_progress, step_open  # noqa: E402
from .steps import chat, documents, pairs, share, train  # noqa: E402

log = logging.getLogger("dab.ui")
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}
STEP_MODULES = {"documents": documents, "pairs": pairs, "train": train, "evaluate": chat, "share": share}
PANELS = {"pairs": datasets}  # extra panels under a step; after their actions the step reloads
FOLLOWERS = {"documents": ["pairs"]}  # steps that reload after another step's changes (the pairs' coverage view)
CACHE_CLEAN_S = (3600, 3600)  # every hour, delete cached uploads older than an hour


def page_state(root: str, select: bool):
    """Progress bar, tab gating and (on load) the tab where the user left off."""
    project = Project.open(Path(root))
    done = project_progress(project)
    tabs = [gr.Tab(interactive=step_open(step, done)) for step in WIZARD_STEPS]
    selected = gr.Tabs(selected=current_step(done)) if select else gr.Tabs()
    return progress_html(done, project.root.name), selected, *tabs


def build_app(home: Path, initial: str) -> gr.Blocks:
    """The wizard over the projects inside ``home``, opening project ``initial``."""
    with gr.Blocks(title="Domain Assistant Builder", analytics_enabled=False, delete_cache=CACHE_CLEAN_S) as app:
        gr.Markdown("# Domain Assistant Builder\nTurn your documents into an assistant that knows them, "
                    "in five steps. Your work is saved as you go: close the page and come back any time.")
        root = gr.State(str(home / initial))
        bar = projects.build(home, root, initial)
        progress = gr.HTML(elem_id="progress")
        built, tab_list = {}, []
        with gr.Tabs() as tabs:
            for number, step in enumerate(WIZARD_STEPS, start=1):
                with gr.Tab(f"{number} · {LABELS[step]}", id=step, elem_id=f"tab-{step}") as tab:
                    built[step] = STEP_MODULES[step].build(root)
                    if step in PANELS:
                        built[f"{step}-panel"] = panel = PANELS[step].build(root)
                        for event in panel["changed"]:
                            event.success(*built[step]["refresh"], api_visibility="private")
                tab_list.append(tab)
        for step, followers in FOLLOWERS.items():
            for event in built[step]["changed"]:
                for follower in followers:
                    event.success(*built[follower]["refresh"], api_visibility="private")
        wire_refresh(app, home, root, bar, built, [progress, tabs, *tab_list])
    return app


def wire_refresh(app: gr.Blocks, home: Path, root: gr.State, bar: dict, built: dict, page_outputs: list) -> None:
    """Reload everything on page load and project switch; update the progress bar after each action.

    A step's parts may name ``refresh``/``settings`` (fn, inputs, outputs) to reload from the project,
    ``reset`` (components emptied: results of the last action), ``cancel_on_switch`` (events that
    stop when another project opens: a chat answer) and ``after_training`` (fn, inputs, outputs) to
    reload when a training changes state (the Evaluate button). Background work (training, an evaluation)
    keeps running for its own project."""
    def update(root_value: str):
        return page_state(root_value, select=False)

    for step_parts in built.values():
        for event in step_parts.get("changed", []):
            event.success(update, [root], page_outputs, api_visibility="private")
        if "state" in step_parts:  # a background job (training) changed state: so may what other steps offer
            step_parts["state"].change(update, [root], page_outputs, api_visibility="private",
                                       show_progress="hidden")
            for follower in (parts["after_training"] for parts in built.values() if "after_training" in parts):
                step_parts["state"].change(*follower, api_visibility="private", show_progress="hidden")

    reloads = [parts[key] for parts in built.values() for key in ("refresh", "settings") if key in parts]
    emptied = [c for parts in built.values() for c in parts.get("reset", [])]

    def load_all(root_value: str):
        outputs = []
        for fn, _, _ in reloads:
            result = fn(root_value)
            outputs.extend(result if isinstance(result, tuple) else [result])
        return [*page_state(root_value, select=True), *outputs, *[None] * len(emptied)]

    def on_load(root_value: str):
        """A (re)loaded page opens the project used last, in any tab or after a restart."""
        name = projects.last_project(home) or Path(root_value).name
        root_value = str(home / name)
        return [root_value, gr.Dropdown(choices=list_projects(home), value=name), *load_all(root_value)]

    step_outputs = [c for _, _, outputs in reloads for c in outputs] + emptied
    cancelled = [event for parts in built.values() for event in parts.get("cancel_on_switch", [])]
    app.load(on_load, [root], [root, bar["choose"], *page_outputs, *step_outputs], api_name="load_page")
    for event in bar["changed"]:
        event.success(load_all, [root], page_outputs + step_outputs, api_visibility="private", cancels=cancelled)


def open_project(project: Path | None, sample: bool) -> tuple[Path, str]:
    """The projects folder and the project to open: given, the sample, or the last one used."""
    if sample:
        root = create_sample_project(default_home() / "projects" / "sample").root
        return root.parent, root.name
    if project is not None:
        root = new_project(project).root
        return root.parent, root.name
    home = default_home() / "projects"
    name = projects.last_project(home) or new_project(home / "default").root.name
    return home, name


def launch(project: Path | None = None, sample: bool = False, host: str = "127.0.0.1", port: int = 7860,
           max_file_bytes: int = IngestConfig().max_file_bytes, block: bool = True):
    """Prepare the project and serve the wizard; returns (app, local_url) when ``block`` is False."""
    if host not in LOCAL_HOSTS:
        log.warning("binding to %s: anyone who can reach this address can use the wizard", host)
        print(f"warning: the wizard is reachable from other computers on {host}, and it has no password")
    home, name = open_project(project, sample)
    projects.remember(home, name)
    print(f"projects folder: {home}\nproject: {name}")
    app = build_app(home, name)
    _, local_url, _ = app.queue(default_concurrency_limit=1).launch(
        server_name=host, server_port=port, max_file_size=max_file_bytes, show_error=False, quiet=not block,
        allowed_paths=[str(home.resolve())], prevent_thread_lock=not block, footer_links=["gradio"],
        app_kwargs=guard_kwargs(AllowedHosts(host)))
    return app, local_url
