"""The skeleton's contracts: lazy imports, no Gradio in the core, config and atomic storage."""

import json
import subprocess
import sys
import time

import pytest

from builder.config import ProjectConfig
from builder.errors import ConfigError
from builder.project import Project, display_name, safe_suffix
from builder.storage import append_jsonl, read_jsonl, write_jsonl

PY = sys.executable


def run_py(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([PY, "-c", code], capture_output=True, text=True, timeout=120)


def test_builder_imports_without_gradio_or_torch():
    code = ("import sys, pkgutil, importlib, builder\n"
            "sys.modules['gradio'] = None  # any import of gradio now raises ImportError\n"
            "names = [m.name for m in pkgutil.walk_packages(builder.__path__, 'builder.')]\n"
            "[importlib.import_module(n) for n in names]\n"
            "print(len(names), 'torch' in sys.modules)")
    result = run_py(code)
    assert result.returncode == 0, result.stderr
    count, torch_loaded = result.stdout.split()
    assert int(count) >= 15
    assert torch_loaded == "False", "importing builder must not import torch"


def test_dab_help_is_fast_and_lists_commands():
    started = time.monotonic()
    result = subprocess.run([PY, "-m", "dab", "--help"], capture_output=True, text=True, timeout=30)
    elapsed_s = time.monotonic() - started
    assert result.returncode == 0
    for command in ("ingest", "pairs", "train", "chat", "ui"):
        assert command in result.stdout
    assert elapsed_s < 2.0


def test_config_roundtrip_and_validation(tmp_path):
    cfg = ProjectConfig(name="legal")
    cfg.train.max_steps = 7
    cfg.save(tmp_path / "p.yaml")
    loaded = ProjectConfig.load(tmp_path / "p.yaml")
    assert loaded.name == "legal" and loaded.train.max_steps == 7
    (tmp_path / "bad.yaml").write_text("train:\n  learnin_rate: 0.1\n")
    with pytest.raises(ConfigError, match="learnin_rate"):
        ProjectConfig.load(tmp_path / "bad.yaml")
    (tmp_path / "bad2.yaml").write_text("train:\n  learning_rate: fast\n")
    with pytest.raises(ConfigError, match="learning_rate"):
        ProjectConfig.load(tmp_path / "bad2.yaml")


def test_jsonl_roundtrip_and_torn_last_line(tmp_path):
    rows = [{"a": 1, "text": "é €"}, {"a": 2}]
    write_jsonl(tmp_path / "x.jsonl", rows)
    assert read_jsonl(tmp_path / "x.jsonl") == rows
    assert not list(tmp_path.glob(".*tmp")), "no temp files left behind"
    log = tmp_path / "metrics.jsonl"
    append_jsonl(log, {"step": 1})
    with log.open("a") as handle:
        handle.write('{"step": 2, "lo')  # a crash mid-write
    assert read_jsonl(log) == [{"step": 1}]


def test_uploads_are_stored_under_generated_names(tmp_path):
    project = Project.create(tmp_path / "p")
    hostile = "../../" + "é" * 300 + ".TXT"
    row = project.store_source(b"hello", hostile)
    stored = project.sources_dir / row.stored_name
    assert stored.read_bytes() == b"hello"
    assert stored.parent == project.sources_dir
    assert row.stored_name == row.id + ".txt"
    assert "/" not in row.original_name and len(row.original_name) <= 120
    assert safe_suffix("a.p/df") == "" and display_name("C:\\x\\y.md") == "y.md"


def test_open_missing_project_is_a_clear_error(tmp_path):
    from builder.errors import ProjectError

    with pytest.raises(ProjectError, match="not a project folder"):
        Project.open(tmp_path / "nope")


def test_new_run_dirs_are_unique(tmp_path):
    project = Project.create(tmp_path / "p")
    dirs = {project.new_run_dir() for _ in range(3)}
    assert len(dirs) == 3 and all(d.is_dir() for d in dirs)
    assert json.loads(json.dumps([str(d) for d in dirs]))


def test_new_projects_train_with_a_preset_and_existing_ones_keep_theirs(tmp_path):
    from builder.project import new_project

    assert new_project(tmp_path / "a").load_config().train.preset == "balanced"
    project = Project.create(tmp_path / "b")
    cfg = project.load_config()
    cfg.train.preset, cfg.train.learning_rate = "custom", 0.01
    project.save_config(cfg)
    reopened = new_project(tmp_path / "b").load_config().train
    assert (reopened.preset, reopened.learning_rate) == ("custom", 0.01)


def test_replace_dir_swaps_in_the_finished_folder(tmp_path):
    from builder.storage import replace_dir

    target = tmp_path / "adapter"
    for version in ("v1", "v2"):
        tmp = tmp_path / f".tmp-{version}"
        tmp.mkdir()
        (tmp / "weights").write_text(version)
        assert replace_dir(tmp, target) == target
        assert (target / "weights").read_text() == version and not tmp.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["adapter"], "no .old or temp folder left behind"


def builder_import_graph() -> dict[str, set[str]]:
    """Module -> the modules importing it runs (its own imports at any level, functions included,
    plus the packages whose ``__init__`` they run), read from the source: builder modules by
    name, and the top-level names of everything else (``gradio``, ``torch`` ...)."""
    import ast
    from pathlib import Path

    import builder

    root = Path(builder.__file__).parent
    files = {".".join(p.relative_to(root.parent).with_suffix("").parts).removesuffix(".__init__"): p
             for p in root.rglob("*.py")}
    graph = {}
    for name, path in files.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        own = {".".join(name.split(".")[:i]) for i in range(1, name.count(".") + 2)}  # itself and its packages
        targets = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")[:len(package.split(".")) - node.level + 1]
                    base = ".".join(anchor + ([base] if base else []))
                targets |= {base} | {f"{base}.{alias.name}" for alias in node.names}
        runs = {".".join(t.split(".")[:i]) for t in targets for i in range(1, t.count(".") + 2)}
        graph[name] = {t for t in runs if t in files and t not in own} | {t.split(".")[0] for t in targets} - {"builder"}
    return graph


def test_builder_has_no_import_cycle_and_never_imports_the_layers_above():
    graph = builder_import_graph()
    assert len(graph) >= 40 and graph["builder.runs"] >= {"builder.chat", "builder.project", "logging"}
    above = {name: deps & {"gradio", "ui", "dab"} for name, deps in graph.items() if deps & {"gradio", "ui", "dab"}}
    assert not above, f"builder imports the layers above it: {above}"
    state: dict[str, str] = {}

    def visit(name: str, path: list[str]) -> None:
        state[name] = "open"
        for dep in sorted(d for d in graph[name] if d in graph):
            assert state.get(dep) != "open", f"import cycle: {' -> '.join(path[path.index(dep):] + [name, dep])}"
            if dep not in state:
                visit(dep, path + [name])
        state[name] = "done"

    for name in sorted(graph):
        if name not in state:
            visit(name, [])


def test_the_training_process_runs_without_the_command_line():
    code = ("import sys, runpy\n"
            "sys.modules['dab'] = None; sys.modules['gradio'] = None  # neither may be imported\n"
            "sys.argv = ['builder.train', '--help']\n"
            "runpy.run_module('builder.train', run_name='__main__')\n")
    result = run_py(code)
    assert result.returncode == 0 and "--run-dir" in result.stdout and "--resume" in result.stdout, result.stderr
