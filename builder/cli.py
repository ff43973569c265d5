"""``dab``: the command line, mirroring the wizard's steps.

    dab init    PROJECT                      create a project folder
    dab ingest  PATH... --project PROJECT    add documents (files, folders, zips) and chunk them
    dab pairs   --project PROJECT            generate question/answer pairs (--report: reconciliation)
    dab dataset export|import|save PATH -p P export/import pairs (openai, alpaca, sharegpt), save_to_disk
    dab transfer --project PROJECT           domain distance and a recommended number of pairs
    dab train   --project PROJECT            fine-tune a LoRA adapter on the pairs (--resume, --stop, --preset)
    dab chat    --project PROJECT            chat with the tuned model in the terminal
    dab eval    --project PROJECT            base vs tuned on held-out pairs
    dab serve   --project PROJECT            OpenAI-compatible /v1/chat/completions for the tuned model
    dab export  --project PROJECT --out DIR  adapter + model card (--merged, --gguf, --ollama, --push user/name)
    dab ui      [--sample]                   launch the browser wizard

Heavy libraries are imported inside the commands, so ``dab --help`` answers at once. Every
expected problem ends as one ``error:`` line and a non-zero exit code, never a traceback.
"""

import argparse
import json
import sys
from pathlib import Path

from .errors import BuilderError
from .export import GGUF_TYPES


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args) or 0
    except BuilderError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # a file the user named is missing, unreadable, or the disk is full
        print(f"error: {exc.strerror or exc}: {exc.filename or ''}".rstrip(": "), file=sys.stderr)
        return 2
    except json.JSONDecodeError as exc:
        print(f"error: a JSON file is not valid JSON ({exc.msg}, line {exc.lineno})", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="dab", description="Domain Assistant Builder: documents to a tested specialist model.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("init", help="create a project folder")
    p.add_argument("project", type=Path)
    p.add_argument("--base-model", help="Hub id, local folder, or 'bundled' (default)")
    p.set_defaults(func=cmd_init)

    p = sub.add_parser("ingest", help="add documents (PDF, DOCX, HTML, MD, TXT, zip, folders)")
    p.add_argument("paths", nargs="+", type=Path)
    add_project_arg(p)
    p.set_defaults(func=cmd_ingest)

    p = sub.add_parser("pairs", help="generate question/answer pairs from the chunks")
    add_project_arg(p)
    p.add_argument("--generator", help="pair generator (default: from project.yaml)")
    p.add_argument("--report", action="store_true", help="print the reconciliation report (no generation)")
    p.set_defaults(func=cmd_pairs)

    p = sub.add_parser("dataset", help="export, import, save or push the pairs (openai messages, alpaca, sharegpt)")
    p.add_argument("action", choices=["export", "import", "save", "push"])
    p.add_argument("path", type=Path, help="file to write or read (save: a datasets folder; push: a Hub repo id)")
    add_project_arg(p)
    p.add_argument("--format", choices=["openai", "alpaca", "sharegpt"], help="default: openai (import: detected)")
    p.set_defaults(func=cmd_dataset)

    p = sub.add_parser("transfer", help="how far the documents are from general text; pairs to aim for")
    add_project_arg(p)
    p.set_defaults(func=cmd_transfer)

    p = sub.add_parser("train", help="fine-tune a LoRA adapter on the pairs")
    add_project_arg(p)
    p.add_argument("--run-dir", type=Path, help="write into this run folder (used by the wizard)")
    p.add_argument("--max-steps", type=int, help="stop after this many optimizer steps")
    p.add_argument("--preset", choices=["quick", "balanced", "thorough", "custom"],
                   help="settings from hardware, model and data (custom: as in project.yaml)")
    p.add_argument("--resume", action="store_true", help="continue the newest unfinished run (or --run-dir)")
    p.add_argument("--stop", action="store_true", help="ask the project's running training to stop and save")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("chat", help="chat with the tuned model (streams to the terminal)")
    add_project_arg(p)
    p.add_argument("--adapter", type=Path, help="adapter folder (default: the newest completed run)")
    p.add_argument("--base", action="store_true", help="answer with the base model, adapter off")
    p.add_argument("-m", "--message", help="ask one question and exit (default: interactive)")
    p.set_defaults(func=cmd_chat)

    p = sub.add_parser("eval", help="compare base and tuned models on held-out pairs")
    add_project_arg(p)
    p.add_argument("--adapter", type=Path, help="adapter folder (default: the newest completed run)")
    p.add_argument("--heldout", type=Path, help="JSONL of {question, answer} (default: the eval split)")
    p.set_defaults(func=cmd_eval)

    p = sub.add_parser("serve", help="serve the tuned model on an OpenAI-compatible endpoint")
    add_project_arg(p)
    p.add_argument("--adapter", type=Path, help="adapter folder (default: the newest completed run)")
    p.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1: this computer only)")
    p.add_argument("--port", type=int, default=8000)
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("export", help="export the adapter (+ model card), merged weights, GGUF, Ollama Modelfile, Hub")
    add_project_arg(p)
    p.add_argument("--adapter", type=Path, help="adapter folder (default: the newest completed run)")
    p.add_argument("--out", type=Path, required=True, help="output folder")
    p.add_argument("--merged", action="store_true", help="also save full weights with the adapter merged in")
    p.add_argument("--gguf", action="store_true", help="also write model.gguf for llama.cpp/Ollama (implies --merged)")
    p.add_argument("--gguf-type", choices=GGUF_TYPES, default="f16", help="GGUF weight type (default f16; q8_0 is half the size)")
    p.add_argument("--ollama", action="store_true", help="also write an Ollama Modelfile (implies --merged; uses the GGUF with --gguf)")
    p.add_argument("--push", metavar="USER/NAME", help="upload the adapter to this Hub repository ($HF_TOKEN)")
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("ui", help="launch the browser wizard")
    p.add_argument("--project", type=Path, help="open this project")
    p.add_argument("--sample", action="store_true", help="open the sample project (sample documents, bundled model)")
    p.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1: this computer only)")
    p.add_argument("--port", type=int, default=7860)
    p.set_defaults(func=cmd_ui)
    return parser


def add_project_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--project", "-p", type=Path, required=True, help="project folder")


def cmd_init(args) -> None:
    from .workflow import new_project

    project = new_project(args.project)
    if args.base_model:
        cfg = project.load_config()
        cfg.train.base_model = args.base_model
        project.save_config(cfg)
    print(f"project ready: {project.root}")


def cmd_ingest(args) -> int:
    from .workflow import ingest_and_chunk, new_project

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
    from .pairs import format_report, generate_pairs, load_report
    from .project import Project

    project = Project.open(args.project)
    cfg = project.load_config()
    if args.report:
        report = load_report(project)
        print(format_report(report) if report else "no pairs generated yet: run `dab pairs` first")
        return
    if args.generator:
        cfg.pairs.generator = args.generator
    summary = generate_pairs(project, cfg.pairs)
    print(format_report(load_report(project)).splitlines()[-1])
    print(f"{summary['pairs']} pairs from {summary['chunks']} chunks "
          f"({summary['chunks_without_pairs']} chunks gave no pair)")


def cmd_dataset(args) -> None:
    from .chat import chat_settings
    from .dataset import build_dataset_dict, export_pairs, import_into_project, push_to_hub
    from .pairs import training_pairs
    from .project import Project

    project = Project.open(args.project)
    cfg = project.load_config()
    system_prompt = chat_settings(cfg).system_prompt  # the prompt training uses
    if args.action == "import":
        added, total = import_into_project(project, args.path, args.format)
        print(f"{added} new pairs imported ({total - added} already in the project)")
    elif args.action == "export":
        n = export_pairs(training_pairs(project.pairs()), args.path, args.format or "openai", system_prompt)
        print(f"{n} pairs written to {args.path}")
    elif args.action == "push":
        url = push_to_hub(training_pairs(project.pairs()), str(args.path), cfg.pairs.eval_fraction,
                          seed=cfg.pairs.seed, system_prompt=system_prompt)
        print(f"dataset pushed: {url}")
    else:
        data = build_dataset_dict(training_pairs(project.pairs()), cfg.pairs.eval_fraction, cfg.pairs.seed,
                                  system_prompt)
        data.save_to_disk(str(args.path))
        print(f"dataset saved to {args.path} ({', '.join(f'{k}: {len(v)}' for k, v in data.items())})")


def cmd_transfer(args) -> None:
    from .project import Project
    from .transfer import transfer_check

    print(transfer_check(Project.open(args.project))["advice"])


def cmd_train(args) -> None:
    from .project import Project
    from .train import run_training
    from .train.runner import stop_project_training

    project = Project.open(args.project)
    if args.stop:
        print(f"stop requested for run {stop_project_training(project).name}")
        return
    cfg = project.load_config()
    if args.max_steps:
        cfg.train.max_steps = args.max_steps
    if args.preset:
        cfg.train.preset = args.preset
    status = run_training(project, args.run_dir, cfg, resume=args.resume)
    print(json.dumps(status))


def cmd_chat(args) -> None:
    from .chat import ChatEngine, chat_settings
    from .project import Project
    from .workflow import latest_adapter

    project = Project.open(args.project)
    cfg = project.load_config()
    adapter = None if args.base else (args.adapter or latest_adapter(project))
    engine = ChatEngine.load(cfg.train.base_model, adapter)
    if adapter is None and not args.base:
        print("(no trained adapter yet: answering with the base model)", file=sys.stderr)
    settings, history = chat_settings(cfg, adapter), []
    for question in [args.message] if args.message else iter_prompts():
        history.append({"role": "user", "content": question})
        reply = ""
        for piece in engine.stream(history, settings):
            print(piece, end="", flush=True)
            reply += piece
        history.append({"role": "assistant", "content": reply})
        print()


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
    from .chat import ChatEngine
    from .evaluate import evaluate_run
    from .project import Project
    from .storage import read_jsonl
    from .workflow import heldout_pairs

    project = Project.open(args.project)
    cfg = project.load_config()
    adapter = resolve_adapter(project, args.adapter)
    pairs = read_jsonl(args.heldout) if args.heldout else heldout_pairs(project)
    if not pairs:
        raise BuilderError("no held-out pairs: pass --heldout FILE or generate more pairs")
    engine = ChatEngine.load(cfg.train.base_model, adapter)
    report = evaluate_run(engine, pairs, cfg, Path(adapter).parent)
    print(json.dumps({key: report[key] for key in ("pairs", "base", "tuned", "wall_s")}, indent=2))
    print(f"report: {Path(adapter).parent / 'eval.md'}")


def resolve_adapter(project, adapter: Path | None) -> Path:
    """The adapter folder given, else the newest completed run's; AdapterError when none."""
    from .errors import AdapterError
    from .workflow import latest_adapter

    adapter = adapter or latest_adapter(project)
    if adapter is None:
        raise AdapterError("no trained adapter yet: run `dab train` first")
    return Path(adapter)


def cmd_serve(args) -> None:
    from .chat import chat_settings
    from .project import Project
    from .serve import load_serving_engine, serve

    project = Project.open(args.project)
    cfg = project.load_config()
    adapter = resolve_adapter(project, args.adapter)
    engine = load_serving_engine(cfg.train.base_model, adapter)
    print(f"serving {cfg.name} on http://{args.host}:{args.port}/v1/chat/completions", flush=True)
    serve(engine, chat_settings(cfg, adapter), args.host, args.port, model_name=cfg.name)


def cmd_export(args) -> None:
    from .export import export_adapter, export_weights, push_to_hub
    from .project import Project

    project = Project.open(args.project)
    cfg = project.load_config()
    run_dir = resolve_adapter(project, args.adapter).parent
    print(f"adapter: {export_adapter(run_dir, args.out / 'adapter', cfg.train.base_model)}")
    if args.merged or args.gguf or args.ollama:
        export_weights(cfg, run_dir, args.out, args.gguf_type if args.gguf else None, args.ollama,
                       done=lambda step, path: print(f"{step + ':':8} {path}"))
    if args.push:
        print(f"hub:     {push_to_hub(args.out / 'adapter', args.push)}")


def cmd_ui(args) -> None:
    try:
        from ui.app import launch
    except ImportError as exc:
        raise BuilderError(f"the wizard needs Gradio: pip install gradio ({exc})") from exc
    launch(project=args.project, sample=args.sample, host=args.host, port=args.port)


if __name__ == "__main__":
    sys.exit(main())
