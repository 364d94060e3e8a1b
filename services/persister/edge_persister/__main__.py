"""``python -m edge_persister``: the buffer and catalog owner."""

from __future__ import annotations

import signal
import sys
from types import FrameType

import zmq

from edge_common.logs import setup_logging
from edge_common.memory import keep_freed_memory
from edge_common.settings import Settings
from edge_persister.server import Persister


def main() -> int:
    settings = Settings()
    setup_logging(settings.log_level, "persister")
    keep_freed_memory()  # edge_common.memory: arrays reuse pages
    persister = Persister(settings, zmq.Context.instance())

    def stop(signum: int, frame: FrameType | None) -> None:
        persister.stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    return persister.run()


if __name__ == "__main__":
    sys.exit(main())
