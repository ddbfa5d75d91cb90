"""The second opinion's encoder with 1 or 2 threads, alone and with other processes doing the same at once.

    .venv/bin/python bench/encoder_threads.py            # threads 1 and 2, 1 and 3 concurrent processes

Each process loads the encoder with the given thread count (as the ingest pass does) and embeds the same 50 real
posts (tests/data/relevance/real/dev.jsonl, the first ones) without any cache; it prints its wall and CPU seconds
for the embedding (the engine's load excluded). The figure is the ingest workers' case: several hosts' workers, or
three workers on one 2-core host, run the second-opinion pass at the same time.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time
from pathlib import Path

POSTS = 50
DEV = Path(__file__).resolve().parent.parent / "tests" / "data" / "relevance" / "real" / "dev.jsonl"


def one(threads: int) -> None:
    from listener.relevance.learned import Encoder, post_text

    with DEV.open(encoding="utf-8") as stream:
        records = [json.loads(line) for _, line in zip(range(POSTS), stream, strict=False)]
    texts = [post_text(r.get("title", ""), r["text"]) for r in records]
    encoder = Encoder(threads)
    encoder.embed(["warm up"])  # loads the engine
    cpu0, wall0 = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
    encoder.embed(texts)
    wall, cpu1 = time.perf_counter() - wall0, resource.getrusage(resource.RUSAGE_SELF)
    cpu = (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime)
    print(json.dumps({"threads": threads, "wall": round(wall, 2), "cpu": round(cpu, 2)}))


def main() -> None:
    print(f"{POSTS} posts per process; wall and CPU seconds of each process's embedding")
    for threads in (1, 2):
        for concurrent in (1, 3):
            procs = [
                subprocess.Popen([sys.executable, __file__, "--one", str(threads)], stdout=subprocess.PIPE, text=True)
                for _ in range(concurrent)
            ]
            results = [json.loads(p.communicate()[0].strip().splitlines()[-1]) for p in procs]
            walls = ", ".join(f"{r['wall']:.1f}" for r in results)
            cpus = ", ".join(f"{r['cpu']:.1f}" for r in results)
            print(f"threads {threads}, {concurrent} process(es) at once: wall {walls} s; CPU {cpus} s")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--one":
        one(int(sys.argv[2]))
    else:
        main()
