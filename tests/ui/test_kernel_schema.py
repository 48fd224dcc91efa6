"""`--schema` in a real Jupyter kernel, against a scripted model on loopback: a careless first
answer repaired, typed columns over a frame, and a model that never gets it right."""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

from routing_magics.emulator import Emulator
from tests.run.model_server import ModelServer, careless, compliant
from tests.ui.test_kernel import keyed_kernel, outcomes

SPEC = '"sentiment, score float"'
GOOD = {"sentiment": "positive", "score": 0.9}


def test_a_careless_answer_is_repaired_and_bound_in_a_kernel(tmp_path: Path) -> None:
    model = ModelServer(careless({"sentiment": "positive"}, GOOD))
    with model, keyed_kernel(cast(Emulator, model), tmp_path) as k:
        cell = k.ok(f"%%route --schema {SPEC} -o r\nRead: loved it")
        shown = " ".join(str(d["data"].get("text/plain", "")) for d in cell.displays)
        assert "1 repair turn fixed it" in shown and "score" in shown
        assert k.ok("print(r.data)").stream("stdout").strip() == str(GOOD)
        assert outcomes(k) == ["ok", "ok"]


def test_an_answer_never_right_fails_the_cell_in_one_line(tmp_path: Path) -> None:
    always: Any = compliant({"sentiment": 3})
    with ModelServer(always) as model, keyed_kernel(cast(Emulator, model), tmp_path) as k:
        cell = k.run(f"%%route --schema {SPEC} -o r\nRead: loved it")
        assert cell.reply["status"] == "error"
        line = cell.usage_error()
        assert "does not match the concise spec after 1 repair turn" in line
