"""`python -m routing_magics.emulator`: print the base URL, serve until SIGINT or SIGTERM."""

from __future__ import annotations

import argparse
import signal
import threading
from collections.abc import Sequence
from types import FrameType

from ..api.catalog import PLANS
from .server import Emulator


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m routing_magics.emulator",
        description="Serve an offline emulator of the routing.run API on loopback.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--plan", default="premium", choices=PLANS)
    parser.add_argument("--token-rate", type=float, default=None, help="tokens/second (streams)")
    parser.add_argument("--daily-limit", type=int, default=1500)
    parser.add_argument("--per-minute-limit", type=int, default=100, help="429 above this")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds before each answer")
    parser.add_argument(
        "--strict-keys",
        action="store_true",
        help="accept only rk_ keys, as routing.run does (default: any key but one starting "
        "with 'invalid', so the openai SDK works with whatever key is typed)",
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    emulator = Emulator(
        args.host, args.port, args.plan, args.token_rate, args.daily_limit,
        per_minute_limit=args.per_minute_limit, latency=args.latency,
        any_key=not args.strict_keys,
    )  # fmt: skip
    with emulator:
        print(emulator.base_url, flush=True)
        print(
            f"control secret: {emulator.control_secret} (send it as X-Emulator-Secret to "
            f"{emulator.base_url.removesuffix('/v1')}/_emulator/…)",
            flush=True,
        )
        while not stop.wait(0.5):
            pass
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
