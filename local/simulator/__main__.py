"""`python -m local.simulator --port 8100`: the SP-API simulator in the foreground until Ctrl-C."""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
import threading

from .server import SimulatorServer


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local.simulator", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8100, help="port to listen on (default 8100; 0 = any free port)")
    parser.add_argument("--verbose", action="store_true", help="log every request")
    options = parser.parse_args(argv)
    # Serve on a thread and wait on an event the signals set: Ctrl-C or SIGTERM stop it promptly
    # however busy the machine is (a signal inside the server's own loop can be slow to land, and one
    # the kernel hands to another thread runs its handler only once the main thread is back in the
    # interpreter: the wait goes in short steps).
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    server = SimulatorServer(options.host, options.port, quiet=not options.verbose).start()
    print(f"SP-API simulator listening on {server.url}", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        while not stop.wait(0.2):
            pass
    server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
