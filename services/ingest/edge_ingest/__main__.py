"""``python -m edge_ingest --worker N``: one ingest worker process."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
from types import FrameType

import zmq

from edge_common.logs import setup_logging
from edge_common.memory import keep_freed_memory
from edge_common.settings import Settings
from edge_ingest.worker import IngestWorker


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="edge_ingest")
    parser.add_argument("--worker", type=int, default=0)
    args = parser.parse_args(argv)
    settings = Settings()
    setup_logging(settings.log_level, f"ingest-{args.worker}")
    keep_freed_memory()  # edge_common.memory: arrays reuse pages
    worker = IngestWorker(settings, args.worker, zmq.Context.instance())

    def stop(signum: int, frame: FrameType | None) -> None:
        worker.stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    code = worker.run()
    logging.getLogger(__name__).info("ingest worker %d stopped", args.worker)
    return code


if __name__ == "__main__":
    sys.exit(main())
