"""``python -m chatwoot_simulator --port 3100 --seed 1``: a simulated Chatwoot with demo data and traffic."""

from __future__ import annotations

import argparse
import logging
import signal
import threading
from collections.abc import Callable, Sequence

from chatwoot_simulator.server import SimulatorServer, serve
from chatwoot_simulator.simulator import Simulator
from chatwoot_simulator.traffic import DemoData, TrafficGenerator, seed_demo


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m chatwoot_simulator", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=3100, help="0 picks a free port")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--conversations", type=int, default=36, help="demo conversations to create")
    parser.add_argument("--rate", type=float, default=30.0, help="traffic actions per minute (0: none)")
    parser.add_argument("--token", default=None, help="API token of the demo administrator")
    parser.add_argument("--webhook-url", default=None, help="where to POST the account's webhooks")
    parser.add_argument("--webhook-secret", default=None, help="sign webhooks with this secret")
    parser.add_argument("--no-account", action="store_true", help="omit `account` (Chatwoot < 4.14.2)")
    parser.add_argument("--verbose", action="store_true", help="log every request")
    return parser


def main(
    argv: Sequence[str] | None = None,
    *,
    stop: threading.Event | None = None,
    ready: Callable[[SimulatorServer, DemoData], None] | None = None,
) -> int:
    """Run until ``stop`` is set, SIGINT or SIGTERM; ``ready`` is called once the server is up."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING)
    simulator = Simulator(seed=args.seed, delivery="async")
    server = serve(args.host, args.port, simulator=simulator, verbose=args.verbose)
    demo = seed_demo(simulator, conversations=args.conversations, seed=args.seed, api_token=args.token)
    if args.webhook_url:
        simulator.set_webhook(
            demo.account_id,
            url=args.webhook_url,
            secret=args.webhook_secret,
            include_account=not args.no_account,
        )
    traffic = None
    if args.rate > 0:
        traffic = TrafficGenerator(simulator, account_id=demo.account_id, rate_per_minute=args.rate, seed=args.seed)
        traffic.start()
    print(f"Chatwoot simulator on {server.url}")
    print(f"account_id={demo.account_id} api_access_token={demo.api_token}")
    if ready is not None:
        ready(server, demo)
    stop = stop or threading.Event()
    previous_handler = None
    if threading.current_thread() is threading.main_thread():
        previous_handler = signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        if previous_handler is not None:
            signal.signal(signal.SIGTERM, previous_handler)
        if traffic is not None:
            traffic.stop()
        server.shutdown()
        simulator.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
