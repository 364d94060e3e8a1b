"""``python -m edge_query --worker N``: one query worker process."""

from __future__ import annotations

import argparse
import gc
import os
import signal
import sys
from types import FrameType

import zmq

from edge_common.logs import setup_logging
from edge_common.memory import keep_freed_memory
from edge_common.settings import Settings
from edge_query.worker import QueryWorker


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="edge_query")
    parser.add_argument("--worker", type=int, default=0)
    args = parser.parse_args(argv)
    # KILL QUERY reaches a DataFusion query when its runtime (tokio) runs a timer, which
    # only an idle runtime thread does. With one thread per core, a query's partitions kept
    # them all busy: a kill or a timeout waited seconds, or for the query's end. A thread
    # more than the two partitions a query runs on stays free to run it (edge_query.cancel).
    os.environ.setdefault("TOKIO_WORKER_THREADS", str(max(os.cpu_count() or 2, 2) + 1))
    settings = Settings()
    setup_logging(settings.log_level, f"query-{args.worker}")
    keep_freed_memory()  # edge_common.memory: arrays reuse pages
    worker = QueryWorker(settings, args.worker, zmq.Context.instance())
    # A 1.x answer is built as Python lists (40,000 rows x 21 columns: 840,000 objects) and
    # dropped whole; at the default threshold (700) the cycle collector ran over the growing
    # lists ~1,200 times per such answer, 15 % of its time. Collect far less often, and never
    # scan what was loaded at start.
    gc.freeze()
    gc.set_threshold(100_000, 50, 100)

    def stop(signum: int, frame: FrameType | None) -> None:
        worker.stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    return worker.run()


if __name__ == "__main__":
    sys.exit(main())
