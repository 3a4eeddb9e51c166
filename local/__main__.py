"""`python -m local serve|run|invoke`: the embedded local stack (SPEC §8)."""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import threading
import urllib.request
from pathlib import Path


def serve(args: argparse.Namespace) -> int:
    from local.stack import LocalStack, Ports

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    stack = LocalStack(
        ports=Ports(gateway=args.gateway_port, simulator=args.simulator_port, moto=args.moto_port),
        concurrency=args.concurrency,
    ).start()
    print(f"API gateway   {stack.api_url}  (identity: X-Client-Id, X-Admin: true)")
    print(f"SP-API sim    {stack.simulator_url}  (control API under /_sim)")
    print(f"moto (AWS)    {stack.moto_url}")
    print(f"Functions     up to {stack.functions.concurrency} concurrent invocations each")
    print(f"Console       {stack.api_url}/console/?as=<client_id>  (&admin=true for the admins group)")
    print(f"Appstore      {stack.simulator_url}/selling-partner-appstore/dp/amzn1.sp.solution.local")
    print("Local stack ready", flush=True)
    try:
        # A signal the kernel hands to another thread only runs its handler once the main thread
        # is back in the interpreter: wait in short steps, never in one uninterruptible wait.
        while not stop.wait(0.2):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        stack.stop()
    return 0


def run(_: argparse.Namespace) -> int:
    from local.scenario import play

    return play()


def invoke(args: argparse.Namespace) -> int:
    from local.functions import LocalFunctions, apply_environment
    from local.stack import Ports, environment_for_invoke

    event = json.loads(Path(args.event).read_text())
    ports = Ports(simulator=args.simulator_port, moto=args.moto_port)  # those `serve` was started with
    moto_url = f"http://127.0.0.1:{ports.moto}"
    try:
        urllib.request.urlopen(f"{moto_url}/moto-api/", timeout=3).close()
    except OSError:
        print(f"No local stack at {moto_url}: start one with `make serve` first.", file=sys.stderr)
        return 1
    apply_environment(environment_for_invoke(moto_url, f"http://127.0.0.1:{ports.simulator}"))
    result = LocalFunctions().invoke(args.function, event)
    print(json.dumps(result, indent=2, default=str))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    serve_parser = commands.add_parser("serve", help="run the local stack until Ctrl-C")
    serve_parser.add_argument("--gateway-port", type=int, default=3000)
    serve_parser.add_argument("--simulator-port", type=int, default=8100)
    serve_parser.add_argument("--moto-port", type=int, default=5000)
    serve_parser.add_argument(
        "--concurrency",
        type=int,
        default=None,
        help="concurrent invocations per function (default: $LOCAL_FUNCTION_CONCURRENCY, else 4)",
    )
    serve_parser.set_defaults(func=serve)
    commands.add_parser("run", help="play the whole scenario and stop").set_defaults(func=run)
    invoke_parser = commands.add_parser("invoke", help="invoke one function against the running stack")
    invoke_parser.add_argument("--function", required=True, help="the function's logical id in template.yaml")
    invoke_parser.add_argument("--event", required=True, help="path of an event JSON file")
    invoke_parser.add_argument("--simulator-port", type=int, default=8100)
    invoke_parser.add_argument("--moto-port", type=int, default=5000)
    invoke_parser.set_defaults(func=invoke)
    args = parser.parse_args(argv)
    # The stack's own warnings (a function that failed and will be retried, a poller that hit an
    # error) go to stderr; the functions log JSON to stdout as on Lambda.
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
