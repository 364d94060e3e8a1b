"""``python -m edge_query --worker N``: one query worker process."""

from __future__ import annotations

import argparse
import signal
import sys
from types import FrameType

import zmq

from edge_common.logs import setup_logging
from edge_common.settings import Settings
from edge_query.worker import QueryWorker


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="edge_query")
    parser.add_argument("--worker", type=int, default=0)
    args = parser.parse_args(argv)
    settings = Settings()
    setup_logging(settings.log_level, f"query-{args.worker}")
    worker = QueryWorker(settings, args.worker, zmq.Context.instance())

    def stop(signum: int, frame: FrameType | None) -> None:
        worker.stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    return worker.run()


if __name__ == "__main__":
    sys.exit(main())
