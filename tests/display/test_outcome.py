"""display/outcome.py: the footer's facts, the notice under an answer, provenance metadata."""

from routing_magics.api import errors
from routing_magics.api.models import Completion, Usage
from routing_magics.display.outcome import footer_info, notice_for, provenance
from routing_magics.display.render import footer_text

PRIMARY = "https://api.routing.run/v1"


def done(**fields: object) -> Completion:
    return Completion(**{"endpoint": PRIMARY, "finish_reason": "stop", **fields})  # type: ignore[arg-type]


def test_max_tokens_spent_on_reasoning_says_so_and_suggests_more() -> None:
    notice = notice_for(
        done(reasoning="hmm", finish_reason="length"), max_tokens=20, primary=PRIMARY
    )
    assert notice is not None and "max_tokens (20) went on reasoning" in notice and "-m" in notice


def test_a_cut_answer_and_a_fallback_answer_are_named() -> None:
    cut = notice_for(done(text="half", finish_reason="length"), max_tokens=None, primary=PRIMARY)
    assert cut is not None and "cut off" in cut
    other = notice_for(
        done(text="ok", endpoint="https://ai.routing.sh/v1"), max_tokens=None, primary=PRIMARY
    )
    assert other is not None and "secondary endpoint https://ai.routing.sh/v1" in other


def test_no_notice_for_a_plain_answer() -> None:
    assert notice_for(done(text="ok"), max_tokens=None, primary=PRIMARY) is None


def test_the_footer_reads_the_ledger_outcome() -> None:
    """One mapping: what the ledger records decides what the footer says."""
    answer = done(text="ok", model="route/glm-5", usage=Usage(3, 4, 7))
    cases = [
        (None, "route/glm-5 · 3 in / 4 out · notebook total 7 tokens"),
        (
            errors.Stopped("stopped"),
            "route/glm-5 · 3 in / 4 out · notebook total 7 tokens · stopped",
        ),
        (
            errors.ProviderError("down"),
            "route/glm-5 · 3 in / 4 out · notebook total 7 tokens · error",
        ),
    ]
    for failure, line in cases:
        outcome = errors.outcome_of(failure)
        info = footer_info(answer, outcome=outcome, notebook_total=7, offline=False)
        assert footer_text(info) == line
    assert errors.outcome_of(errors.ProviderError("down")) == "PROVIDER_ERROR"


def test_provenance_carries_model_provider_endpoint_and_usage() -> None:
    meta = provenance(done(model="route/glm-5", provider="crof", usage=Usage(3, 4, 7)))
    assert meta["routing_magics"]["usage"]["total_tokens"] == 7
    assert meta["routing_magics"]["endpoint"] == PRIMARY
