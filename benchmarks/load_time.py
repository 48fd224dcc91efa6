"""How long `%load_ext routing_magics` takes, beside `import IPython` alone. Prints figures.

    python benchmarks/load_time.py [--runs 7]

Each run is a fresh interpreter (no warm module cache): offline, where the emulator's port is
bound on the load path and its server comes up on a thread, and with a key, where there is none.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

PROBE = r"""
import json, time
t0 = time.perf_counter()
import IPython
from IPython.core.interactiveshell import InteractiveShell
t1 = time.perf_counter()
shell = InteractiveShell.instance()
t2 = time.perf_counter()
shell.run_line_magic("load_ext", "routing_magics")
t3 = time.perf_counter()
print(json.dumps({"import_ipython": t1 - t0, "load_ext": t3 - t2}))
"""


def one_run(env: dict[str, str]) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def own_import_ms() -> float:
    """routing_magics' own cumulative import time from -X importtime (microseconds → ms)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    out = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import routing_magics"],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    )
    for line in out.stderr.splitlines():
        parts = [p.strip() for p in line.split("|")]
        if len(parts) == 3 and parts[2] == "routing_magics":
            return int(parts[1]) / 1000
    raise RuntimeError("routing_magics not in -X importtime output")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        env = {
            **os.environ,
            "ROUTING_MAGICS_OFFLINE": "1",
            "ROUTING_MAGICS_USAGE_DB": f"{tmp}/u.sqlite",
        }
        env.pop("ROUTING_RUN_API_KEY", None)
        # Measure as an installed package runs: with bytecode cached (the first run writes it).
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        one_run(env)
        runs = [one_run(env) for _ in range(args.runs)]
        online = {**env, "ROUTING_RUN_API_KEY": "rk_bench_key"}
        online.pop("ROUTING_MAGICS_OFFLINE")
        with_key = [one_run(online) for _ in range(args.runs)]
    ipy = statistics.median(r["import_ipython"] for r in runs)
    load = statistics.median(r["load_ext"] for r in runs)
    keyed = statistics.median(r["load_ext"] for r in with_key)
    imports = statistics.median(own_import_ms() for _ in range(args.runs))
    print(f"runs: {args.runs} fresh interpreters (median)")
    print(f"import IPython:                 {ipy * 1000:7.1f} ms")
    print(f"%load_ext routing_magics:       {load * 1000:7.1f} ms  (offline: emulator on a thread)")
    print(f"%load_ext routing_magics:       {keyed * 1000:7.1f} ms  (with a key: no emulator)")
    print(f"import routing_magics (own):    {imports:7.1f} ms  (python -X importtime, cumulative)")


if __name__ == "__main__":
    main()
