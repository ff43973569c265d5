"""Chat speed: time to first token and tokens/s, ours vs plain ``generate`` through peft.

    HF_HUB_OFFLINE=1 .venv/bin/python bench/chat.py [--adapter RUN/adapter] [--new-tokens 64] [--skip-eval]
    HF_HUB_OFFLINE=1 .venv/bin/python bench/chat.py --under-load     # quiet, then beside a training
    HF_HUB_OFFLINE=1 .venv/bin/python bench/chat.py --skip-eval --passages-k 3   # retrieval on vs off
    HF_HUB_OFFLINE=1 .venv/bin/python bench/chat.py --concurrency 8   # dab serve: 8 clients at once vs in a row
    python bench/chat.py --base MODEL_DIR --baseline-quantize 4bit --skip-eval       # on a GPU

Model: the bundled SmolLM2-135M-Instruct (fp32 on CPU, bf16 on CUDA) with a LoRA adapter (rank
16, all linear layers, like training). Without ``--adapter`` a random adapter with non-zero
weights of that shape is made (same compute as a trained one). Measured in one run, batch 1,
greedy, the same prompts and the same number of new tokens for every engine, which take turns
prompt by prompt (a change in machine load hits them alike). Every model is loaded on the
torch thread (``builder.torch_thread``), so the main thread never runs a kernel:

- baseline: plain ``model.generate`` through the peft wrapper (adapter unmerged; 4-bit with
  ``--baseline-quantize 4bit``), streamed the way transformers documents it for chat apps: a
  new thread per answer running ``generate`` with a streamer, timed at the first token;
- reference: the same ``generate`` run on the torch thread, as a script whose only thread
  calls it would; it separates the two gains below;
- ours (serving): ``load_serving_engine`` (adapter merged into the weights, full precision when
  memory allows), timed at the first text piece the caller receives (``ChatEngine.stream``);
- ours (wizard, side by side): the wizard's engine, which answers with the adapter and without
  it from one copy of the weights (float32: the adapter folded in for a tuned answer, unfolded
  for a base one); each timed tuned answer follows a short base answer, as in the side-by-side
  chat, so its first token pays the folding;
- baseline, with retrieval: plain ``generate`` as above, asked over the same passages;
- ours (serving), with retrieval: the serving engine answering from the documents as ``dab serve``
  does (``builder.answers.grounded_prompt`` over the sample project, ``--passages-k`` passages in
  the prompt), timed from before the search; against ``ours (serving)`` it is retrieval on vs
  off in the same run (target: first token under 0.6 s on a quiet CPU);
- ours (serving), always spinning: the serving engine with the torch thread's OpenMP workers
  spinning between kernels whatever the load (``torch_thread.set_wait_policy("spin")``), as
  before the waits followed the load: the A/B for that choice in the same run. It goes last in
  each round: the load reading after it would undercount the other processes it crowded out.

Ours differs from the baseline in two ways: every answer runs on the one torch thread (on a
CPU, a second thread's OpenMP team makes libgomp put its workers to sleep after each kernel;
on the torch thread they spin while the machine is otherwise idle, and wait briefly like the
baseline's while other processes keep the cores busy), and the serving engine has the adapter merged (no LoRA matmuls per token). Then the wall time
of ``evaluate_run`` on the sample corpus's held-out questions. Prints a table and writes
``bench/results/chat.json``.

``--under-load`` measures the engines twice in one invocation: first as the machine is, then
while a real ``dab train`` runs beside them (``python -m builder.train --preset balanced``
on a copy of the sample project with rules pairs and the bundled model: the wizard's
recommended preset, long enough to outlast the measurement), in its own session as the wizard
starts it. A real training rather than a synthetic matmul loop, because its CPU use is the
one users meet: an OpenMP team of torch's default size (all cores), spinning, with data and
optimizer phases between kernels. Each phase also reports the cores other processes used
meanwhile. Writes ``bench/results/chat-under-load.json`` (no evaluation).
"""

import argparse
import contextlib
import json
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # this checkout's builder, not an installed one

TRAINING_BESIDE = ("python -m builder.train --preset balanced: the sample project, rules pairs, bundled model, "
                   "torch's default thread count, in its own session")
FIRST_TOKEN_TARGET_S = 0.6  # with retrieval, on a quiet CPU
PROMPTS = ["How do I book a cargo bike for a Saturday?",
           "What happens if I return a bike late to the depot?",
           "Can I pause my membership over the winter?"]


def make_adapter(base: str, out_dir: Path) -> Path:
    """A rank-16, all-linear LoRA adapter with small non-zero weights for ``base``."""
    import torch
    from peft import LoraConfig, get_peft_model

    from builder.models import load_model

    torch.manual_seed(0)
    model = get_peft_model(load_model(base), LoraConfig(r=16, lora_alpha=32, target_modules="all-linear",
                                                        task_type="CAUSAL_LM"))
    with torch.no_grad():
        for name, param in model.named_parameters():
            if "lora_B" in name:
                param.normal_(std=0.002)
    model.save_pretrained(out_dir)
    return out_dir


def endless(model) -> None:
    """No end-of-sequence token, so every engine generates exactly the tokens asked for."""
    model.generation_config.eos_token_id = None


def asked(prompt: str, cfg, project, tokenizer) -> list[dict]:
    """The conversation sent for ``prompt``: the question alone, or with ``project``, asked over
    its passages as ``dab serve`` asks it (``grounded_prompt``)."""
    from builder.answers import grounded_prompt

    messages = [{"role": "user", "content": prompt}]
    if project is None:
        return messages
    return grounded_prompt(project, messages, cfg, tokenizer.all_special_tokens).messages


def time_plain_generate(model, tokenizer, prompt: str, cfg, new_tokens: int, on_torch_thread: bool,
                        project=None) -> dict:
    """Baseline: ``generate`` with the chat template, first token timed by a streamer. With
    ``project``, the question is first asked over its passages, as ``time_engine`` does."""
    import torch

    from builder import torch_thread
    from transformers.generation.streamers import BaseStreamer

    class Clock(BaseStreamer):
        def __init__(self):
            self.calls = []

        def put(self, value):
            self.calls.append(time.perf_counter())

        def end(self):
            pass

    started = time.perf_counter()
    messages = [{"role": "system", "content": cfg.system_prompt}, *asked(prompt, cfg, project, tokenizer)]
    inputs = tokenizer.apply_chat_template(messages, add_generation_prompt=True, return_tensors="pt",
                                           return_dict=True).to(model.device)
    clock = Clock()

    def generate():
        with torch.inference_mode():
            model.generate(**inputs, max_new_tokens=new_tokens, do_sample=False, streamer=clock,
                           pad_token_id=tokenizer.pad_token_id)

    if on_torch_thread:
        torch_thread.call(generate)
    else:  # transformers' streaming recipe: generate in a new thread per answer
        worker = threading.Thread(target=generate)
        worker.start()
        worker.join()
    first, end = clock.calls[1], clock.calls[-1]  # calls[0] is the prompt
    return {"first_token_s": first - started, "tokens_per_s": (len(clock.calls) - 2) / (end - first)}


def time_engine(engine, prompt: str, cfg, project=None) -> dict:
    """Ours: first text piece the caller sees, then decode speed over the rest of the answer. With
    ``project``, the question is first asked over its passages (``grounded_prompt``), inside the timing."""
    started = time.perf_counter()
    messages = asked(prompt, cfg, project, engine.tokenizer)
    retrieval_s = time.perf_counter() - started
    generation = engine.start(messages, cfg)
    first = None
    for _ in generation:
        first = first or time.perf_counter()
    end = time.perf_counter()
    decode_s = end - generation.started_s - generation.first_token_s
    timing = {"first_token_s": first - started, "tokens_per_s": (generation.new_tokens - 1) / decode_s,
              "prompt_tokens": generation.prompt_tokens}
    return {**timing, "retrieval_s": retrieval_s} if project is not None else timing


def time_side_by_side(engine, prompt: str, cfg) -> dict:
    """The wizard's tuned answer right after a (short, untimed) base answer, as the side-by-side
    chat alternates them: switching the adapter back on is inside the tuned answer's timing."""
    from builder.chat import answer
    from builder.config import ChatConfig

    answer(engine, prompt, ChatConfig(max_new_tokens=4), use_adapter=False)
    return time_engine(engine, prompt, cfg)


def summary_of(runs: list[dict]) -> dict:
    """Medians, and the range of tokens/s over the runs."""
    summary = {key: round(statistics.median(r[key] for r in runs), 3) for key in runs[0]}
    speeds = [r["tokens_per_s"] for r in runs]
    return {**summary, "tokens_per_s_range": [round(min(speeds), 1), round(max(speeds), 1)]}


def load_engines(base: str, adapter: Path, new_tokens: int, baseline_quantize: str, project, passages_k: int) -> dict:
    """name -> function(prompt) timing one answer, for the baseline, the reference and ours (the
    last one answering from ``project``'s documents)."""
    from builder import torch_thread
    from builder.chat import ChatEngine, attach_adapter
    from builder.config import ChatConfig, ProjectConfig
    from builder.models import load_model, load_tokenizer
    from builder.runs import Run
    from builder.serve import load_serving_engine

    cfg = ChatConfig(max_new_tokens=new_tokens)
    grounded_cfg = ChatConfig(max_new_tokens=new_tokens, passages_k=passages_k)
    tokenizer = load_tokenizer(base)
    peft_model = torch_thread.call(lambda: attach_adapter(load_model(base, quantize=baseline_quantize), adapter).eval())
    project_cfg = ProjectConfig()
    project_cfg.train.base_model = base  # the run's own config.yaml, if the adapter has one, names the same
    chat, serving = ChatEngine.load(base, adapter), load_serving_engine(Run.of_adapter(adapter), project_cfg)
    for model in (peft_model.get_base_model(), chat.model.get_base_model(), serving.model):
        endless(model)
    return {"baseline_peft_generate": lambda p: time_plain_generate(peft_model, tokenizer, p, cfg, new_tokens, False),
            "reference_peft_generate_torch_thread":
                lambda p: time_plain_generate(peft_model, tokenizer, p, cfg, new_tokens, True),
            "ours_chat_wizard": lambda p: time_side_by_side(chat, p, cfg),
            "ours_serving_merged": lambda p: time_engine(serving, p, cfg),
            "baseline_peft_generate_with_retrieval":
                lambda p: time_plain_generate(peft_model, tokenizer, p, grounded_cfg, new_tokens, False, project),
            "ours_serving_merged_with_retrieval": lambda p: time_engine(serving, p, grounded_cfg, project),
            # last: while it spins, other processes get less CPU, and the next answer's load
            # reading (over the last second or more) would undercount them
            "ours_serving_merged_always_spinning": lambda p: time_spinning(time_engine, serving, p, cfg)}


def retrieval_effect(results: dict, passages_k: int) -> dict:
    """Retrieval on vs off for the serving engine, in the same run, against the first-token target."""
    on, off = results["ours_serving_merged_with_retrieval"], results["ours_serving_merged"]
    plain = results["baseline_peft_generate_with_retrieval"]
    effect = {"passages_k": passages_k, "first_token_s_on": on["first_token_s"], "first_token_s_off": off["first_token_s"],
              "baseline_first_token_s_on": plain["first_token_s"],
              "tokens_per_s_on": on["tokens_per_s"], "tokens_per_s_off": off["tokens_per_s"],
              "prompt_tokens_on": on["prompt_tokens"], "prompt_tokens_off": off["prompt_tokens"],
              "retrieval_s": on["retrieval_s"], "target_first_token_s": FIRST_TOKEN_TARGET_S,
              "meets_target": on["first_token_s"] < FIRST_TOKEN_TARGET_S}
    print(f"retrieval on (k={passages_k}, {on['prompt_tokens']:.0f} prompt tokens, search {on['retrieval_s'] * 1000:.1f} ms): "
          f"first token {on['first_token_s']:.3f} s, {on['tokens_per_s']:.1f} tok/s; off ({off['prompt_tokens']:.0f} "
          f"tokens): {off['first_token_s']:.3f} s, {off['tokens_per_s']:.1f} tok/s; plain generate with the same "
          f"passages: first token {plain['first_token_s']:.3f} s; target < {FIRST_TOKEN_TARGET_S} s: "
          f"{'met' if effect['meets_target'] else 'missed'}", flush=True)
    return effect


def bench_generation(engines: dict, repeats: int) -> dict:
    """The engines take turns on each prompt, so a change in machine load hits them alike."""
    from builder.cpu_load import others_cores, read

    runs = {name: [] for name in engines}
    for name, run_once in engines.items():
        run_once(PROMPTS[0])  # warm-up
    started = read()
    for _ in range(repeats):
        for prompt in PROMPTS:
            for name, run_once in engines.items():
                runs[name].append(run_once(prompt))
    results = {name: summary_of(rows) for name, rows in runs.items()}
    for name, result in results.items():
        print(f"{name:36} first token {result['first_token_s']:.3f} s   {result['tokens_per_s']:.1f} tok/s", flush=True)
    baseline = results["baseline_peft_generate"]["tokens_per_s"]
    for name in list(engines)[1:]:
        results[name]["speedup_vs_baseline"] = round(results[name]["tokens_per_s"] / baseline, 2)
        print(f"{name}: {results[name]['speedup_vs_baseline']}x tokens/s of the baseline", flush=True)
    if started is not None:
        results["cores_used_by_other_processes"] = round(others_cores(started, read()), 2)
        print(f"other processes used {results['cores_used_by_other_processes']} cores meanwhile", flush=True)
    return results


@contextlib.contextmanager
def training_beside():
    """A real ``dab train`` (sample project, rules pairs, bundled model, Balanced preset) running
    in its own session, as the wizard starts it, until the block ends; yields its run folder once
    it trains."""
    from builder.documents import create_sample_project
    from builder.pairs import generate_pairs
    from builder.runs import Run

    with tempfile.TemporaryDirectory(prefix="bench-training-") as workdir:
        project = create_sample_project(Path(workdir) / "sample")
        generate_pairs(project)
        run_dir, log_path = Path(workdir) / "run", Path(workdir) / "train.log"
        cmd = [sys.executable, "-m", "builder.train", "--project", str(project.root),
               "--run-dir", str(run_dir), "--preset", "balanced"]
        with log_path.open("wb") as log:
            process = subprocess.Popen(cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                       start_new_session=True)
        try:
            while Run(run_dir).status().get("state") != "running":
                check_running(process, log_path, "before it trained")
                time.sleep(1)
            print(f"training beside the chat: pid {process.pid}", flush=True)
            yield run_dir
            check_running(process, log_path, "during the measurement")
        finally:
            process.terminate()  # a graceful stop: it saves and exits after its micro-batch
            try:
                process.wait(60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def check_running(process: subprocess.Popen, log_path: Path, when: str) -> None:
    if process.poll() is not None:
        tail = log_path.read_text(errors="replace").splitlines()[-5:]
        raise RuntimeError(f"the training ended {when}:\n" + "\n".join(tail))


def time_spinning(timer, *args) -> dict:
    """``timer(*args)`` with the torch thread's OpenMP workers spinning whatever the load (as before
    the waits followed the load)."""
    from builder import torch_thread

    torch_thread.set_wait_policy("spin")
    try:
        return timer(*args)
    finally:
        torch_thread.set_wait_policy("auto")


def bench_evaluation(engine_base: str, adapter: Path, project) -> dict:
    """Wall time of the wizard's evaluation (base and tuned, closed- and open-book) on the sample's sets."""
    from builder.chat import ChatEngine
    from builder.evaluate import evaluate_run

    engine = ChatEngine.load(engine_base, adapter)
    started = time.perf_counter()
    report = evaluate_run(engine, project, project.load_config())
    wall_s = round(time.perf_counter() - started, 1)
    print(f"evaluation of {report['sets']} questions (base + tuned, closed- and open-book): {wall_s} s", flush=True)
    return {"sets": report["sets"], "wall_s": wall_s, "headline": report["headline"]}


def describe_machine(base: str, baseline_quantize: str) -> dict:
    import torch

    from builder.models import pick_device

    device = pick_device()
    name = torch.cuda.get_device_name() if device.startswith("cuda") else f"CPU, {torch.get_num_threads()} threads"
    dtype = "bf16" if device.startswith("cuda") else "fp32"
    return {"model": base, "device": name, "dtype": dtype, "baseline_weights": "4-bit NF4" if baseline_quantize == "4bit" else dtype}


def main() -> None:
    from builder import torch_thread
    from builder.documents import create_sample_project
    from builder.models import resolve_model

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default="bundled", help="base model spec or folder (default: the bundled SmolLM2-135M)")
    parser.add_argument("--adapter", type=Path, help="a trained adapter of the base model (default: random)")
    parser.add_argument("--baseline-quantize", choices=["none", "4bit"], default="none",
                        help="weights of the baseline's peft model (4bit: as trained with QLoRA, needs CUDA)")
    parser.add_argument("--new-tokens", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=1, help="runs per prompt (3 prompts)")
    parser.add_argument("--passages-k", type=int, default=3, help="passages in the prompt with retrieval on")
    parser.add_argument("--skip-eval", action="store_true")
    parser.add_argument("--under-load", action="store_true",
                        help="measure as the machine is, then beside a running training (no evaluation)")
    parser.add_argument("--concurrency", type=int, metavar="N",
                        help="only serving over HTTP: N clients at once vs one after another (bench/serve_load.py)")
    parser.add_argument("--out", type=Path, help="result file (default: bench/results/chat.json, "
                                                 "chat-under-load.json with --under-load, chat-concurrency.json)")
    args = parser.parse_args()
    name = "chat-concurrency" if args.concurrency else "chat-under-load" if args.under_load else "chat"
    out = args.out or ROOT / "bench" / "results" / f"{name}.json"
    base = resolve_model(args.base)
    adapter = args.adapter or torch_thread.call(make_adapter, base, Path(tempfile.mkdtemp(prefix="bench-adapter-")))
    if args.concurrency:
        from bench.serve_load import bench_concurrency, report

        result = bench_concurrency(base, adapter, args.concurrency, args.new_tokens, args.repeats)
        report(result)
        out.write_text(json.dumps({**describe_machine(args.base, "none"), **result}, indent=2) + "\n")
        print(f"written: {out}")
        return
    results = {**describe_machine(args.base, args.baseline_quantize),
               "adapter": "trained" if args.adapter else "random rank-16 all-linear", "new_tokens": args.new_tokens}
    project = create_sample_project(Path(tempfile.mkdtemp(prefix="bench-sample-")) / "sample")
    engines = load_engines(base, adapter, args.new_tokens, args.baseline_quantize, project, args.passages_k)
    if args.under_load:
        print("-- without a training (the machine as it is)", flush=True)
        results["without_training"] = bench_generation(engines, args.repeats)
        results["without_training"]["retrieval"] = retrieval_effect(results["without_training"], args.passages_k)
        with training_beside():
            print("-- beside a training", flush=True)
            results["load"] = TRAINING_BESIDE
            results["beside_training"] = bench_generation(engines, args.repeats)
            results["beside_training"]["retrieval"] = retrieval_effect(results["beside_training"], args.passages_k)
    else:
        results.update(bench_generation(engines, args.repeats))
        results["retrieval"] = retrieval_effect(results, args.passages_k)
    if not args.skip_eval and not args.under_load:
        results["evaluation"] = bench_evaluation(base, adapter, project)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"written: {out}")


if __name__ == "__main__":
    main()
