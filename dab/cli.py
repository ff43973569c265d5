"""``dab``: the command line, mirroring the wizard's steps.

    dab init    PROJECT                      create a project folder
    dab ingest  PATH... --project PROJECT    add documents (files, folders, zips) and chunk them
    dab pairs   --project PROJECT            generate question/answer pairs (--report: reconciliation;
                                             --base-url/--model/--api-key-env, --test-connection: teacher setup)
    dab review  list|accept|reject|edit|add|move -p P   review pairs by id (list: --status, --split)
    dab dataset export|import|save PATH -p P export/import pairs (openai, alpaca, sharegpt), save_to_disk
    dab transfer --project PROJECT           domain distance and a recommended number of pairs
    dab train   --project PROJECT            fine-tune a LoRA adapter on the pairs (--resume, --stop, --preset,
                                             --accelerate-config FILE: several processes)
    dab chat    --project PROJECT            chat with the tuned model in the terminal
    dab eval    --project PROJECT            base vs tuned on held-out pairs
    dab serve   --project PROJECT            OpenAI-compatible /v1/chat/completions for the tuned model
    dab export  --project PROJECT --out DIR  adapter + model card (--merged, --gguf, --ollama, --push user/name)
    dab share   --project PROJECT            start the password-protected, chat-only demo and print its link (--stop)
    dab ui      [--sample]                   launch the browser wizard

Heavy libraries are imported inside the commands, so ``dab --help`` answers at once. Every
expected problem ends as one ``error:`` line and a non-zero exit code, never a traceback.
"""

import argparse
import json
import os
import sys
from pathlib import Path

from builder.config import MAX_PASSAGES_K, RERANK_CHOICES
from builder.errors import BuilderError
from builder.export import GGUF_TYPES
from builder.records import STATUSES
from builder.train.entry import add_arguments as add_train_arguments

from . import commands


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args) or 0
    except BuilderError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # the reader went away (`dab review list | head`): stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
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
    add_data_commands(sub)
    add_model_commands(sub)
    p = sub.add_parser("ui", help="launch the browser wizard")
    p.add_argument("--project", type=Path, help="open this project")
    p.add_argument("--sample", action="store_true", help="open the sample project (sample documents, bundled model)")
    p.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1: this computer only)")
    p.add_argument("--port", type=int, default=7860)
    p.set_defaults(func=commands.cmd_ui)
    return parser


def add_data_commands(sub) -> None:
    """init, ingest, pairs, dataset, transfer: from documents to reviewed pairs."""
    p = sub.add_parser("init", help="create a project folder")
    p.add_argument("project", type=Path)
    p.add_argument("--base-model", help="Hub id, local folder, or 'bundled' (default)")
    p.set_defaults(func=commands.cmd_init)

    p = sub.add_parser("ingest", help="add documents (PDF, DOCX, HTML, MD, TXT, zip, folders)")
    p.add_argument("paths", nargs="+", type=Path)
    add_project_arg(p)
    p.set_defaults(func=commands.cmd_ingest)

    p = sub.add_parser("pairs", help="generate question/answer pairs from the chunks",
                       description="Generate pairs. Teacher options given here are saved in project.yaml.")
    add_project_arg(p)
    p.add_argument("--generator", help="rules (offline), local (a teacher model here) or openai (an endpoint)")
    p.add_argument("--report", action="store_true", help="print the reconciliation report (no generation)")
    add_teacher_arguments(p)
    p.set_defaults(func=commands.cmd_pairs)

    add_review_command(sub)

    p = sub.add_parser("dataset", help="export, import, save or push the pairs (openai messages, alpaca, sharegpt)")
    p.add_argument("action", choices=["export", "import", "save", "push"])
    p.add_argument("path", type=Path, help="file to write or read (save: a datasets folder; push: a Hub repo id)")
    add_project_arg(p)
    p.add_argument("--format", choices=["openai", "alpaca", "sharegpt"], help="default: openai (import: detected)")
    p.set_defaults(func=commands.cmd_dataset)

    p = sub.add_parser("transfer", help="how far the documents are from general text; pairs to aim for")
    add_project_arg(p)
    p.set_defaults(func=commands.cmd_transfer)


def add_review_command(sub) -> None:
    """``dab review``: the Pairs step's review by pair id (``dab review list`` shows the ids)."""
    review = sub.add_parser("review", help="list, accept, reject, edit, add or move pairs by id",
                            description="Review pairs by id. Unknown ids or statuses change nothing (exit code 2).")
    actions = review.add_subparsers(dest="action", required=True, metavar="ACTION")
    p = actions.add_parser("list", help="one line per pair: id, status, used for, question -> answer")
    add_project_arg(p)
    p.add_argument("--status", choices=STATUSES, help="only pairs with this status")
    p.add_argument("--split", choices=["train", "eval", "none"],
                   help="only pairs used for training (train), held out for evaluation (eval) or not used (none)")
    p.add_argument("--json", action="store_true", help="one JSON object per line instead of text")
    p.set_defaults(func=commands.cmd_review_list)
    for name, status in (("accept", "accepted"), ("reject", "rejected")):
        p = actions.add_parser(name, help=f"mark pairs {status}")
        p.add_argument("ids", nargs="+", metavar="ID")
        add_project_arg(p)
        p.set_defaults(func=commands.cmd_review_status, status=status)
    p = actions.add_parser("edit", help="change a pair's question and/or answer (it becomes 'edited')")
    p.add_argument("id", metavar="ID")
    add_project_arg(p)
    p.add_argument("--question", "-q")
    p.add_argument("--answer", "-a")
    p.set_defaults(func=commands.cmd_review_edit)
    p = actions.add_parser("add", help="add a pair of your own (it is used for training)")
    add_project_arg(p)
    p.add_argument("--question", "-q", required=True)
    p.add_argument("--answer", "-a", required=True)
    p.add_argument("--passage", metavar="CHUNK_ID", help="the passage it is about (grounds the pair)")
    p.set_defaults(func=commands.cmd_review_add)
    p = actions.add_parser("move", help="use pairs for training or hold them out for evaluation")
    p.add_argument("ids", nargs="+", metavar="ID")
    add_project_arg(p)
    p.add_argument("--to", choices=["train", "eval"], required=True)
    p.set_defaults(func=commands.cmd_review_move)


def add_teacher_arguments(p: argparse.ArgumentParser) -> None:
    """``dab pairs``' teacher setup: a local model, or an OpenAI-compatible endpoint."""
    teacher = p.add_argument_group("teacher (generators local and openai)")
    teacher.add_argument("--teacher-model", metavar="MODEL",
                         help="local: a Hub id, a model folder, or 'bundled' (for trying the flow; too small to write good pairs)")
    teacher.add_argument("--base-url", metavar="URL", help="openai: the endpoint, e.g. http://127.0.0.1:11434/v1 (Ollama), "
                                                           "http://HOST:8000/v1 (vLLM, dab serve), http://HOST:8080/v1 (llama.cpp)")
    teacher.add_argument("--model", dest="api_model", metavar="NAME", help="openai: the endpoint's model name")
    teacher.add_argument("--api-key-env", metavar="NAME",
                         help="openai: NAME of the environment variable holding the key (the key is never stored)")
    teacher.add_argument("--test-connection", action="store_true",
                         help="check the teacher (an endpoint lists its models) and exit without generating")


def whole_number(low: int, high: int):
    """An argparse type: a whole number from ``low`` to ``high``, else a clear usage error."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be from {low} to {high}, got {value}")
        return value

    return parse


def add_grounding_arguments(p) -> None:
    """--no-documents, -k and --rerank: answer from the documents (the default) or not, with how
    many passages, and whether the model re-ranks them."""
    p.add_argument("--no-documents", action="store_true",
                   help="answer without the documents (default: each question is asked over its best passages)")
    p.add_argument("-k", "--passages", dest="passages_k", type=whole_number(1, MAX_PASSAGES_K), default=0,
                   help=f"passages quoted per question, 1-{MAX_PASSAGES_K} (default: the project's, 3)")
    p.add_argument("--rerank", choices=RERANK_CHOICES,
                   help="the model re-ranks the passages search finds: finds the right one more often, "
                        "~2 s a question on a 2-core CPU (default: the project's, auto: on a GPU only)")


def add_model_commands(sub) -> None:
    """train, chat, eval, serve, export: the tuned model and what to do with it."""
    p = sub.add_parser("train", help="fine-tune a LoRA adapter on the pairs")
    add_train_arguments(p)
    p.add_argument("--stop", action="store_true", help="ask the project's running training to stop and save")
    p.add_argument("--accelerate-config", type=Path, metavar="FILE",
                   help="train on several processes: accelerate launch --config_file FILE (data parallel; "
                        "distributed_type: FSDP shards the model)")
    p.set_defaults(func=commands.cmd_train)

    p = sub.add_parser("chat", help="chat with the tuned model (streams to the terminal)")
    add_project_arg(p)
    p.add_argument("--adapter", type=Path, help="adapter folder (default: the newest completed run)")
    p.add_argument("--base", action="store_true", help="answer with the base model, adapter off")
    p.add_argument("-m", "--message", help="ask one question and exit (default: interactive)")
    add_grounding_arguments(p)
    p.set_defaults(func=commands.cmd_chat)

    p = sub.add_parser("eval", help="compare base and tuned models on held-out pairs")
    add_project_arg(p)
    p.add_argument("--adapter", type=Path, help="adapter folder (default: the newest completed run)")
    p.add_argument("--heldout", type=Path, help="JSONL of {question, answer} (default: the eval split)")
    p.set_defaults(func=commands.cmd_eval)

    p = sub.add_parser("serve", help="serve the tuned model on an OpenAI-compatible endpoint")
    add_project_arg(p)
    p.add_argument("--adapter", type=Path, help="adapter folder (default: the newest completed run)")
    p.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1: this computer only)")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--max-prompt-tokens", type=whole_number(64, 1_000_000), default=4096,
                   help="cut longer prompts to this many tokens (oldest turns first; default 4096)")
    add_grounding_arguments(p)
    p.set_defaults(func=commands.cmd_serve)

    p = sub.add_parser("export", help="export the adapter (+ model card), merged weights, GGUF, Ollama Modelfile, Hub")
    add_project_arg(p)
    p.add_argument("--adapter", type=Path, help="adapter folder (default: the newest completed run)")
    p.add_argument("--out", type=Path, required=True, help="output folder")
    p.add_argument("--merged", action="store_true", help="also save full weights with the adapter merged in")
    p.add_argument("--gguf", action="store_true", help="also write model.gguf for llama.cpp/Ollama (implies --merged)")
    p.add_argument("--gguf-type", choices=GGUF_TYPES, default="f16", help="GGUF weight type (default f16; q8_0 is half the size)")
    p.add_argument("--ollama", action="store_true", help="also write an Ollama Modelfile (implies --merged; uses the GGUF with --gguf)")
    p.add_argument("--push", metavar="USER/NAME", help="upload the adapter to this Hub repository ($HF_TOKEN)")
    p.set_defaults(func=commands.cmd_export)

    p = sub.add_parser("share", help="start the chat-only demo (password from $DAB_DEMO_PASSWORD or asked; never stored)")
    add_project_arg(p)
    p.add_argument("--adapter", type=Path, help="adapter folder (default: the newest completed run)")
    p.add_argument("--port", type=whole_number(1, 65535), default=7861, help="port on 127.0.0.1 (default 7861)")
    p.add_argument("--public", action="store_true", help="also ask for a public link (needs internet)")
    p.add_argument("--max-messages-per-minute", dest="rate_per_min", type=whole_number(1, 10_000), default=10,
                   help="per visitor (default 10)")
    p.add_argument("--stop", action="store_true", help="stop the project's demo")
    p.set_defaults(func=commands.cmd_share)


def add_project_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--project", "-p", type=Path, required=True, help="project folder")
