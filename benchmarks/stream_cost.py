"""What streaming an answer into a notebook costs: iopub bytes, display rate, first-token delay.

    python benchmarks/stream_cost.py [--rate 500] [--sizes 1000 10000 50000] [--shape code]

A real kernel (jupyter_client) runs `%%route` against the emulator streaming at `--rate` tokens/s
(an unthrottled stream would hide an O(n²) cost). For each answer size it prints:
- iopub bytes ÷ final output bytes: every display_data/update_display_data content sent, over the
  size of the outputs the cell keeps (updates applied, as a notebook stores them);
- display messages per second while streaming;
- first byte at the client → first visible output: from the first token the kernel's client read
  to the first display message carrying answer text arriving here.
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import tempfile
import time
from typing import Any

from jupyter_client.manager import start_new_kernel

from routing_magics.emulator import Emulator

# Stamps the moment the client inside the kernel reads the first answer token.
INSTRUMENT = """
import time as _t, routing_magics.run.single as _run
_bench = {}
_orig_consume = _run._consume
def _stamped(events):
    for _e in events:
        if "first" not in _bench and type(_e).__name__ in ("ContentDelta", "ReasoningDelta"):
            _bench["first"] = _t.time()
        yield _e
def _consume(events, view, draft):
    return _orig_consume(_stamped(events), view, draft)
_run._consume = _consume
"""

BLOCK = """## Section {i}

Rate limiters keep a service healthy by bounding how often a client may call it. A **token
bucket** refills at a steady pace; each request spends a token, and bursts drain the bucket.

- the refill rate sets the long-run throughput
- the bucket size sets the largest burst
- a rejected call should say *when* to retry

| limiter | burst | memory |
|---|---|---|
| fixed window | edge spikes | tiny |
| token bucket | bounded | tiny |

```python
def allow(bucket, now):
    bucket.tokens = min(bucket.size, bucket.tokens + (now - bucket.last) * bucket.rate)
    bucket.last = now
    return bucket.tokens >= 1
```

"""


def answer_of(size: int, shape: str = "prose") -> str:
    """~`size` characters of markdown: mixed blocks, or (`code`) one long fenced code block."""
    if shape == "code":
        lines = "".join(f"value_{i} = compute({i})  # step {i}\n" for i in range(size // 32))
        return f"```python\n{lines}```\n"
    text, i = "", 1
    while len(text) < size:
        text += BLOCK.format(i=i)
        i += 1
    return text[:size].rstrip() + "\n"


def run_cell(kc: Any, code: str) -> list[tuple[float, dict[str, Any]]]:
    """Execute `code`; return (arrival time, message) for every iopub message until idle."""
    msg_id = kc.execute(code)
    got: list[tuple[float, dict[str, Any]]] = []
    while True:
        try:
            msg = kc.get_iopub_msg(timeout=120)
        except queue.Empty as exc:
            raise RuntimeError("kernel went quiet") from exc
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        got.append((time.time(), msg))
        if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
            return got


def final_outputs(msgs: list[tuple[float, dict[str, Any]]]) -> list[dict[str, Any]]:
    """Outputs as a notebook keeps them: updates replace the data of their display_id."""
    outputs: list[dict[str, Any]] = []
    by_id: dict[str, list[dict[str, Any]]] = {}
    for _, msg in msgs:
        kind, content = msg["msg_type"], msg["content"]
        display_id = content.get("transient", {}).get("display_id")
        if kind == "display_data":
            out = {"data": content["data"]}
            outputs.append(out)
            if display_id:
                by_id.setdefault(display_id, []).append(out)
        elif kind == "update_display_data":
            for out in by_id.get(display_id, []):
                out["data"] = content["data"]
    return outputs


def measure(kc: Any, size: int, shape: str) -> dict[str, float]:
    text = answer_of(size, shape)
    msgs = run_cell(kc, f"%%route route/mistral-small-2503\necho: {text}")
    shown = [(t, m) for t, m in msgs if m["msg_type"] in ("display_data", "update_display_data")]
    sent = sum(len(json.dumps(m["content"]["data"])) for _, m in shown)
    kept = sum(len(json.dumps(o["data"])) for o in final_outputs(msgs))
    visible = [t for t, m in shown if m["content"]["data"].get("text/plain")]
    reply = kc.execute_interactive(
        "", user_expressions={"first": "_bench.pop('first', 0)"}, timeout=30
    )
    first = float(reply["content"]["user_expressions"]["first"]["data"]["text/plain"])
    span = max(shown[-1][0] - shown[0][0], 1e-9)
    return {
        "chars": len(text),
        "ratio": sent / kept,
        "sent": sent,
        "kept": kept,
        "messages": len(shown),
        "per_second": len(shown) / span,
        "first_visible_ms": (visible[0] - first) * 1000 if visible else float("nan"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=500.0, help="emulator tokens per second")
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 50_000])
    parser.add_argument("--shape", choices=["prose", "code"], default="prose",
                        help="mixed markdown blocks, or one long code fence")  # fmt: skip
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, Emulator(token_rate=args.rate) as emu:
        env = {
            **os.environ,
            "ROUTING_RUN_API_KEY": "rk_bench_key",
            "ROUTING_RUN_BASE_URL": emu.base_url,
            "ROUTING_RUN_FALLBACK_BASE_URL": "",
            "ROUTING_MAGICS_USAGE_DB": f"{tmp}/usage.sqlite",
        }
        env.pop("ROUTING_MAGICS_OFFLINE", None)
        km, kc = start_new_kernel(env=env)
        try:
            kc.execute_interactive("%load_ext routing_magics\n" + INSTRUMENT, timeout=60)
            print(f"emulator at {args.rate:.0f} tokens/s; real kernel; {args.shape} answers")
            print(
                f"{'answer chars':>12} {'iopub/final':>11} {'sent KB':>8} {'kept KB':>8} "
                f"{'msgs':>5} {'msgs/s':>7} {'1st byte→visible':>17}"
            )
            for size in args.sizes:
                r = measure(kc, size, args.shape)
                print(
                    f"{r['chars']:>12,} {r['ratio']:>10.2f}× {r['sent'] / 1024:>8.1f} "
                    f"{r['kept'] / 1024:>8.1f} {r['messages']:>5} {r['per_second']:>7.1f} "
                    f"{r['first_visible_ms']:>14.1f} ms"
                )
        finally:
            kc.stop_channels()
            km.shutdown_kernel(now=True)


if __name__ == "__main__":
    main()
