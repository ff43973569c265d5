"""``dab serve`` under concurrent clients: N streaming requests at once vs the same N one after another.

    HF_HUB_OFFLINE=1 .venv/bin/python bench/chat.py --concurrency 8 [--new-tokens 64] [--repeats 3]

The serving engine (``load_serving_engine``: the bundled model with a random rank-16 all-linear
adapter merged, as ``bench/chat.py`` makes it) behind ``builder.serve.create_app``, served by
uvicorn on 127.0.0.1 and asked over real HTTP by N client threads (httpx, streaming). Every
answer is exactly ``--new-tokens`` tokens (no end-of-sequence token), greedy. Each repeat runs
the N requests one after another, then all N at once (alternated, so a change in machine load
hits both alike). Reported: aggregate tokens/s of each mode (median over repeats) and their
ratio, and the 50th/95th percentile of time to first token (all requests of all repeats). For
single-request latency the same prompt is answered alone by the engine (``ChatEngine.stream``)
and by plain ``model.generate`` on the torch thread, as the engine answered before it batched.
Writes ``bench/results/chat-concurrency.json``.
"""

import json
import os
import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

PROMPTS = ["How do I book a cargo bike for a Saturday?", "What happens if I return a bike late to the depot?",
           "Can I pause my membership over the winter?", "Where is the depot and when does it open?",
           "How much does a day pass cost for a student?", "Can two people share one membership?",
           "What should I do when a bike breaks down on a trip?", "Do I need a helmet to borrow a bike?"]


def percentile(values: list[float], share: float) -> float:
    """The ``share`` percentile of ``values`` (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered) + 0.5) - 1))]


def stream_one(url: str, prompt: str, new_tokens: int) -> dict:
    """One streaming request: seconds to the first text, seconds to the end, the finish reason."""
    import httpx

    body = {"messages": [{"role": "user", "content": prompt}], "stream": True, "max_tokens": new_tokens,
            "documents": False}
    started, first, finish = time.perf_counter(), None, None
    with httpx.stream("POST", f"{url}/v1/chat/completions", json=body, timeout=600) as response:
        for line in response.iter_lines():
            if not line.startswith("data: {"):
                continue
            choice = json.loads(line[6:])["choices"][0]
            if choice["delta"].get("content") and first is None:
                first = time.perf_counter() - started
            finish = choice["finish_reason"] or finish
    if finish != "length":
        raise RuntimeError(f"an answer ended before its {new_tokens} tokens ({finish})")
    return {"first_token_s": first, "total_s": time.perf_counter() - started}


def run_round(url: str, clients: int, new_tokens: int, concurrent: bool) -> dict:
    """``clients`` requests, at once or one after another: wall time, aggregate tokens/s, first-token times."""
    prompts = [PROMPTS[i % len(PROMPTS)] for i in range(clients)]
    started = time.perf_counter()
    if concurrent:
        with ThreadPoolExecutor(clients) as pool:
            rows = list(pool.map(lambda p: stream_one(url, p, new_tokens), prompts))
    else:
        rows = [stream_one(url, p, new_tokens) for p in prompts]
    wall_s = time.perf_counter() - started
    return {"wall_s": wall_s, "tokens_per_s": clients * new_tokens / wall_s,
            "first_token_s": [row["first_token_s"] for row in rows]}


def single_latency(engine, tokenizer, new_tokens: int) -> dict:
    """One answer alone: the batching engine vs plain ``generate`` on the torch thread (as before)."""
    from bench.chat import time_engine, time_plain_generate
    from builder.config import ChatConfig

    cfg = ChatConfig(max_new_tokens=new_tokens)
    ours = time_engine(engine, PROMPTS[0], cfg)
    before = time_plain_generate(engine.model, tokenizer, PROMPTS[0], cfg, new_tokens, True)
    return {"ours": ours, "plain_generate": before}


def summarize(rounds: dict, singles: list[dict], clients: int, new_tokens: int) -> dict:
    modes = {}
    for mode, rows in rounds.items():
        firsts = [t for row in rows for t in row["first_token_s"]]
        modes[mode] = {"tokens_per_s": round(statistics.median(r["tokens_per_s"] for r in rows), 1),
                       "tokens_per_s_runs": [round(r["tokens_per_s"], 1) for r in rows],
                       "first_token_p50_s": round(percentile(firsts, 0.5), 3),
                       "first_token_p95_s": round(percentile(firsts, 0.95), 3)}
    ratios = [round(c["tokens_per_s"] / s["tokens_per_s"], 2) for c, s in zip(rounds["concurrent"], rounds["sequential"])]
    single = {name: {key: round(statistics.median(s[name][key] for s in singles), 3)
                     for key in ("first_token_s", "tokens_per_s")} for name in singles[0]}
    return {"clients": clients, "new_tokens": new_tokens, **modes, "aggregate_ratio": statistics.median(ratios),
            "aggregate_ratio_runs": ratios, "single_request": single}


def bench_concurrency(base: str, adapter: Path, clients: int, new_tokens: int, repeats: int) -> dict:
    """Serve the merged engine over HTTP; alternate sequential and concurrent rounds ``repeats`` times."""
    import uvicorn

    from bench.chat import endless
    from builder.config import ChatConfig, ProjectConfig
    from builder.cpu_load import others_cores, read
    from builder.models import load_tokenizer
    from builder.runs import Run
    from builder.serve import create_app, load_serving_engine

    project_cfg = ProjectConfig()
    project_cfg.train.base_model = base
    engine = load_serving_engine(Run.of_adapter(adapter), project_cfg)
    endless(engine.model)
    server = uvicorn.Server(uvicorn.Config(create_app(engine, ChatConfig(max_new_tokens=new_tokens)),
                                           host="127.0.0.1", port=0, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    url = f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}"
    run_round(url, 2, 4, True)  # warm-up
    rounds, singles, load = {"sequential": [], "concurrent": []}, [], read()
    for _ in range(repeats):
        for mode in rounds:
            rounds[mode].append(run_round(url, clients, new_tokens, mode == "concurrent"))
        singles.append(single_latency(engine, load_tokenizer(base), new_tokens))
    server.should_exit = True
    result = summarize(rounds, singles, clients, new_tokens)
    result["load_avg_1m_end"] = round(os.getloadavg()[0], 2)
    if load is not None:
        result["cores_used_by_other_processes"] = round(others_cores(load, read()), 2)
    return result


def report(result: dict) -> None:
    for mode in ("sequential", "concurrent"):
        row = result[mode]
        print(f"{mode:10} {row['tokens_per_s']:7.1f} tok/s aggregate (runs {row['tokens_per_s_runs']})   first token "
              f"p50 {row['first_token_p50_s']:.2f} s, p95 {row['first_token_p95_s']:.2f} s", flush=True)
    print(f"{result['clients']} at once: {result['aggregate_ratio']:.2f}x the aggregate tokens/s of one after another "
          f"(runs {result['aggregate_ratio_runs']})", flush=True)
    for name, row in result["single_request"].items():
        print(f"alone, {name:15} first token {row['first_token_s']:.3f} s   {row['tokens_per_s']:.1f} tok/s", flush=True)
