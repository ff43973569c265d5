"""The ``dab`` commands, one function per subcommand (``cli`` parses the arguments and calls them).

Each command opens the project, makes one or two builder calls and prints the result. Builder
modules are imported inside the commands, so ``dab --help`` stays instant. Long work shows a
progress bar on stderr (tqdm): pairs, training (its phase, step and time left, read from the
run's status) and evaluation (answers given of all, time left).
"""

import contextlib
import json
import os
import sys
import threading
from pathlib import Path

from builder.errors import BuilderError
from builder.processes import port_taken


def cmd_init(args) -> None:
    from builder.project import new_project

    project = new_project(args.project)
    if args.base_model:
        project_cfg = project.load_config()
        project_cfg.train.base_model = args.base_model
        project.save_config(project_cfg)
    print(f"project ready: {project.root}")


def cmd_ingest(args) -> int:
    from builder.documents import ingest_and_chunk
    from builder.project import new_project

    project = new_project(args.project)
    reports, chunks = ingest_and_chunk(project, args.paths)
    for row in reports:
        detail = row["error"] if row["status"] == "error" else f"{row['pages']} pages, {row['chars']:,} chars"
        warn = f"  ({'; '.join(row['warnings'])})" if row.get("warnings") else ""
        print(f"{row['status']:5}  {row['name']}: {detail}{warn}")
    failed = sum(row["status"] == "error" for row in reports)
    print(f"{len(reports) - failed} document(s) ingested, {failed} failed; {len(chunks)} chunks in the project")
    return 1 if failed else 0


def cmd_pairs(args) -> None:
    from builder.pairs import format_report, generate_pairs, load_report
    from builder.pairs.teacher_setup import TEACHER_FIELDS, check_teacher, with_teacher
    from builder.project import Project

    project = Project.open(args.project)
    project_cfg = project.load_config()
    if args.report:
        report = load_report(project)
        print(format_report(report) if report else "no pairs generated yet: run `dab pairs` first")
        return
    given = {field: getattr(args, field) for field in TEACHER_FIELDS}
    if any(value is not None for value in given.values()):
        project_cfg.pairs = with_teacher(project_cfg.pairs, **given)
        project.save_config(project_cfg)
        print(f"teacher settings saved in {project.config_path.name}", file=sys.stderr)
    if args.test_connection:
        print(check_teacher(project_cfg.pairs))
        return
    try:
        with progress_bar() as tracker:
            summary = generate_pairs(project, project_cfg.pairs, progress=tracker.update)
    except BuilderError as exc:
        raise type(exc)(f"{str(exc).rstrip('.')}. The project's pairs were not changed.") from exc
    print(format_report(load_report(project)).splitlines()[-1])
    print(f"{summary['pairs']} pairs from {summary['chunks']} chunks "
          f"({summary['chunks_without_pairs']} chunks gave no pair)")


@contextlib.contextmanager
def progress_bar():
    """A progress bar on stderr: passages done / total, pairs so far, time left."""
    from tqdm import tqdm

    from builder.pairs.progress import GenerationProgress

    bars = []

    def show(tracker: GenerationProgress) -> None:
        if not bars:
            bars.append(tqdm(total=tracker.total, unit="passage", file=sys.stderr, desc="pairs",
                             bar_format="{desc} {percentage:3.0f}%|{bar:24}| {postfix}", mininterval=0.2))
        bars[0].n = tracker.done
        bars[0].set_postfix_str(tracker.line(), refresh=True)

    try:
        yield GenerationProgress(on_change=show)
    finally:
        for bar in bars:
            bar.close()


FRACTION_STEPS = 1000  # a fraction bar's resolution


@contextlib.contextmanager
def fraction_bar(desc: str):
    """A progress bar on stderr fed with ``show(fraction, message)``."""
    from tqdm import tqdm

    bar = tqdm(total=FRACTION_STEPS, file=sys.stderr, desc=desc, mininterval=0.2,
               bar_format="{desc} {percentage:3.0f}%|{bar:24}| {postfix}")

    def show(fraction: float, message: str) -> None:
        bar.n = round(min(max(fraction, 0.0), 1.0) * FRACTION_STEPS)
        bar.set_postfix_str(message, refresh=True)

    try:
        yield show
    finally:
        bar.close()


@contextlib.contextmanager
def following_training(project_root: Path, every_s: float = 0.5):
    """While the body trains the project, a bar of its run's status: phase, step, time left."""
    from builder.runs import Run, progress_line
    from builder.train.lock import active_lock

    stopped = threading.Event()

    def follow(show) -> None:
        while not stopped.wait(every_s):
            lock = active_lock(project_root)
            if lock and lock.get("run_dir"):
                status = Run(Path(lock["run_dir"])).status()
                total = status.get("total_steps") or 0
                show(status.get("step", 0) / total if total else 0.0, progress_line(status))

    with fraction_bar("train") as show:
        thread = threading.Thread(target=follow, args=(show,), name="follow-training", daemon=True)
        thread.start()
        try:
            yield
        finally:
            stopped.set()
            thread.join()


USE_OF_SPLIT = {"train": "training", "eval": "evaluation", "none": "not used"}


def cmd_review_list(args) -> None:
    from builder.pairs.overview import pair_uses
    from builder.project import Project

    project = Project.open(args.project)
    pairs = project.pairs()
    uses = pair_uses(pairs, project.load_config().pairs)
    chosen = [p for p in pairs if (args.status is None or p.status == args.status)
              and (args.split is None or uses[p.id] == USE_OF_SPLIT[args.split])]
    for pair in chosen:
        if args.json:
            print(json.dumps({"id": pair.id, "status": pair.status, "used_for": uses[pair.id],
                              "question": pair.question, "answer": pair.answer, "chunk_id": pair.chunk_id},
                             ensure_ascii=False))
        else:
            print(f"{pair.id}  {pair.status:8}  {uses[pair.id]:10}  {one_line(pair.question, 70)} -> "
                  f"{one_line(pair.answer, 70)}")
    print(f"{len(chosen)} of {len(pairs)} pairs", file=sys.stderr)


def one_line(text: str, max_chars: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= max_chars else flat[: max_chars - 3] + "..."


def cmd_review_status(args) -> None:
    from builder.pairs import set_status
    from builder.project import Project

    changed = set_status(Project.open(args.project), args.ids, args.status)
    print(f"{changed} pair(s) {args.status} ({len(set(args.ids)) - changed} already were)")


def cmd_review_edit(args) -> None:
    """Save new wording, checked against the pair as read (a change made meanwhile is not undone)."""
    from builder.errors import ConfigError, ProjectError
    from builder.pairs import ReviewRow, apply_edits, shown_values
    from builder.project import Project

    if args.question is None and args.answer is None:
        raise ConfigError("give --question and/or --answer")
    project = Project.open(args.project)
    pair = next((p for p in project.pairs() if p.id == args.id), None)
    if pair is None:
        raise ProjectError(f"no pair with id {args.id}; nothing was changed")
    question = pair.question if args.question is None else args.question
    answer = pair.answer if args.answer is None else args.answer
    apply_edits(project, [ReviewRow(pair.id, pair.status, question, answer, shown_values(pair))])
    print(f"pair {pair.id} edited")


def cmd_review_add(args) -> None:
    from builder.pairs import add_manual_pair
    from builder.project import Project

    pair = add_manual_pair(Project.open(args.project), args.question, args.answer, chunk_id=args.passage)
    print(f"pair {pair.id} added (used for training)")


def cmd_review_move(args) -> None:
    from builder.pairs import move_pairs
    from builder.project import Project

    changed = move_pairs(Project.open(args.project), args.ids, args.to)
    print(f"{changed} pair(s) moved to {USE_OF_SPLIT[args.to]} ({len(set(args.ids)) - changed} already were)")


def cmd_dataset(args) -> None:
    from builder.dataset import build_dataset_dict, export_pairs, import_into_project, push_to_hub
    from builder.pairs import training_pairs
    from builder.project import Project
    from builder.runs import chat_settings

    project = Project.open(args.project)
    project_cfg = project.load_config()
    system_prompt = chat_settings(project_cfg).system_prompt  # the prompt training uses
    if args.action == "import":
        added, total = import_into_project(project, args.path, args.format)
        print(f"{added} new pairs imported ({total - added} already in the project)")
    elif args.action == "export":
        n = export_pairs(training_pairs(project.pairs()), args.path, args.format or "openai", system_prompt)
        print(f"{n} pairs written to {args.path}")
    elif args.action == "push":
        url = push_to_hub(training_pairs(project.pairs()), str(args.path), project_cfg.pairs,
                          system_prompt=system_prompt)
        print(f"dataset pushed: {url}")
    else:
        data = build_dataset_dict(training_pairs(project.pairs()), project_cfg.pairs, system_prompt)
        data.save_to_disk(str(args.path))
        print(f"dataset saved to {args.path} ({', '.join(f'{k}: {len(v)}' for k, v in data.items())})")


def cmd_transfer(args) -> None:
    from builder.project import Project
    from builder.transfer import transfer_check

    print(transfer_check(Project.open(args.project))["advice"])


def cmd_train(args) -> None:
    from builder.project import Project
    from builder.train.entry import train_from_args
    from builder.train.runner import stop_project_training

    if args.stop:
        print(f"stop requested for run {stop_project_training(Project.open(args.project)).name}")
        return
    if args.accelerate_config:
        launch_training(args)
        return
    with following_training(Project.open(args.project).root):
        status = train_from_args(args)
    print(json.dumps(status))


def launch_training(args) -> None:
    """``dab train --accelerate-config FILE``: the same training under ``accelerate launch``."""
    from builder.errors import TrainingError
    from builder.train.distributed import launch_with_accelerate

    argv = ["--project", str(args.project)] + (["--run-dir", str(args.run_dir)] if args.run_dir else []) \
        + (["--max-steps", str(args.max_steps)] if args.max_steps else []) \
        + (["--preset", args.preset] if args.preset else []) + (["--resume"] if args.resume else [])
    code = launch_with_accelerate(args.accelerate_config, argv)
    if code != 0:
        raise TrainingError(f"the training under accelerate launch failed (exit code {code}); "
                            "the run keeps its last complete checkpoint: dab train --resume continues from it")


def grounding_settings(settings, args):
    """The chat settings with ``--no-documents`` / ``-k`` / ``--rerank`` applied (each keeps the
    project's when absent)."""
    import dataclasses

    return dataclasses.replace(settings, grounded=settings.grounded and not args.no_documents,
                               passages_k=args.passages_k or settings.passages_k,
                               rerank=args.rerank or settings.rerank)


def cmd_chat(args) -> None:
    from builder.project import Project
    from builder.runs import Run, chat_settings, load_engine, newest_trained_run

    project = Project.open(args.project)
    project_cfg = project.load_config()
    run = None
    if not args.base:
        run = Run.of_adapter(args.adapter) if args.adapter else newest_trained_run(project)
        if run is None:
            print("(no trained adapter yet: answering with the base model)", file=sys.stderr)
    settings = grounding_settings(chat_settings(project_cfg, run), args)
    engine, history = load_engine(run, project_cfg), []
    for question in [args.message] if args.message else iter_prompts():
        history.append({"role": "user", "content": question})
        history.append({"role": "assistant", "content": answer_with_sources(engine, project, history, settings)})


def answer_with_sources(engine, project, history: list[dict], settings) -> str:
    """Stream the answer to the last question, then print its sources (or why there are none)."""
    from builder.answers import engine_prompt, source_line

    prompt = engine_prompt(engine, project, history, settings)
    reply = ""
    for piece in engine.stream(prompt.messages, settings):
        print(piece, end="", flush=True)
        reply += piece
    print()
    if prompt.note:
        print(f"({prompt.note})")
    for line in check_lines(prompt, reply):
        print(line)
    if prompt.passages:
        print("Sources:\n" + "\n".join("  " + source_line(n, p, prompt.question)
                                        for n, p in enumerate(prompt.passages, 1)))
    return reply


def check_lines(prompt, reply: str) -> list[str]:
    """What to tell under an answer (a ``GroundedPrompt``'s checks): the figures no source states,
    whether it also says the documents do not cover the question, and the line of the sources
    that states each other figure."""
    from builder.answers import claim_beside_decline

    lines = [f"(Not in the sources, check them: {', '.join(found)})"] if (found := prompt.unsupported(reply)) else []
    if claim_beside_decline(reply):
        lines.append("(Unsure: the answer also says the documents do not cover this; take it as not found "
                     "and read the sources)")
    return lines + [f'(Where {f["fact"]} is: {f["document"]}, "{f["line"]}")' for f in prompt.figure_lines(reply)]


def iter_prompts():
    """Questions typed at the terminal, until an empty line or end of input."""
    while True:
        try:
            line = input("you> ").strip()
        except EOFError:
            return
        if not line:
            return
        yield line


def cmd_eval(args) -> None:
    from builder.eval_report import verdict
    from builder.eval_sets import evaluation_sets
    from builder.evaluate import evaluate_run
    from builder.project import Project
    from builder.runs import load_engine, trained_run
    from builder.storage import read_jsonl

    project = Project.open(args.project)
    project_cfg = project.load_config()
    run = trained_run(project, args.adapter)
    references = read_jsonl(args.heldout) if args.heldout else None
    sets = evaluation_sets(project, run, references)
    if not (sets.recall or sets.unseen):
        raise BuilderError("no held-out questions: pass --heldout FILE, or train again with more pairs")
    engine = load_engine(run, project_cfg)
    with fraction_bar("eval") as show:
        report = evaluate_run(engine, project, project_cfg, run, references, on_progress=show)
    print(verdict(report))
    print(json.dumps({"headline": report["headline"], "sets": report["sets"], "wall_s": report["wall_s"]}, indent=2))
    print(f"report: {run.folder / 'eval.md'}")


def cmd_serve(args) -> None:
    from builder.project import Project
    from builder.runs import chat_settings, trained_run
    from builder.serve import ServeLimits, load_serving_engine, serve

    project = Project.open(args.project)
    project_cfg = project.load_config()
    run = trained_run(project, args.adapter)
    settings = grounding_settings(chat_settings(project_cfg, run), args)
    engine = load_serving_engine(run, project_cfg)
    print(f"serving {project_cfg.name} on http://{args.host}:{args.port}/v1/chat/completions", flush=True)
    serve(engine, settings, args.host, args.port, model_name=project_cfg.name, project=project,
          limits=ServeLimits(max_prompt_tokens=args.max_prompt_tokens))


def cmd_export(args) -> None:
    from builder.export import export_adapter, export_weights, push_to_hub
    from builder.project import Project
    from builder.runs import trained_run

    project = Project.open(args.project)
    project_cfg = project.load_config()
    run = trained_run(project, args.adapter)
    print(f"adapter: {export_adapter(run, args.out / 'adapter', project_cfg)}")
    if args.merged or args.gguf or args.ollama:
        export_weights(run, args.out, project_cfg, args.gguf_type if args.gguf else None, args.ollama,
                       done=lambda step, path: print(f"{step + ':':8} {path}"))
    if args.push:
        print(f"hub:     {push_to_hub(args.out / 'adapter', args.push)}")


def cmd_share(args) -> None:
    """Start the project's chat-only demo in the background (as the wizard's Share step does) and
    print its link; ``--stop`` stops it."""
    from builder.project import Project
    from builder.runs import trained_run
    from builder.storage import read_json

    project = Project.open(args.project)
    share = share_step()
    if args.stop:
        print("demo stopped" if share.stop_demo(project) else "no demo was running")
        return
    info = read_json(project.root / share.INFO_FILE)
    if share.demo_alive(info):
        raise BuilderError(f"a demo of this project already runs at {info['local_url']}: "
                           "stop it first (`dab share --stop`)")
    run = trained_run(project, args.adapter)
    password = demo_password(share.MIN_PASSWORD_CHARS)
    if port_taken("127.0.0.1", args.port):
        raise BuilderError(f"port {args.port} on 127.0.0.1 is in use (another demo, the wizard or another program): "
                           "choose another with --port")
    print(f"starting the demo of run {run.name} (loading the model)...", file=sys.stderr, flush=True)
    info = share.start_demo(project, run, password, args.public, args.rate_per_min, port=args.port)
    print(f"demo: {info['local_url']}  (user name: demo, with your password)")
    if info.get("share_url"):
        print(f"public link: {info['share_url']}  (give it only to people you trust)")
    if info.get("note"):
        print(f"note: {info['note']}")
    print(f"it runs in the background; stop it with `dab share --stop -p {args.project}` or in the wizard")


def share_step():
    """The wizard's Share step, which starts and stops demos (imports Gradio)."""
    try:
        from ui.steps import share
    except ImportError as exc:
        raise BuilderError(f"the demo needs Gradio: pip install gradio ({exc})") from exc
    return share


def demo_password(min_chars: int) -> str:
    """The demo's password: ``$DAB_DEMO_PASSWORD``, else asked at the terminal; never stored."""
    import getpass

    password = os.environ.get("DAB_DEMO_PASSWORD", "")
    if not password and sys.stdin.isatty():
        password = getpass.getpass(f"demo password (at least {min_chars} characters): ")
    if not password:
        raise BuilderError("the demo needs a password: set DAB_DEMO_PASSWORD or run `dab share` in a terminal")
    if len(password) < min_chars:
        raise BuilderError(f"the demo password needs at least {min_chars} characters")
    return password


def cmd_ui(args) -> None:
    try:
        from ui.app import launch
    except ImportError as exc:
        raise BuilderError(f"the wizard needs Gradio: pip install gradio ({exc})") from exc
    launch(project=args.project, sample=args.sample, host=args.host, port=args.port)

