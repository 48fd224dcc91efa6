from routing_magics import errors
from routing_magics.events import Completion, Usage
from routing_magics.outcome import notice_for, provenance
from routing_magics.run import RunOptions

PRIMARY = "https://api.routing.run/v1"


def done(**fields: object) -> Completion:
    return Completion(**{"endpoint": PRIMARY, "finish_reason": "stop", **fields})  # type: ignore[arg-type]


def test_max_tokens_spent_on_reasoning_says_so_and_suggests_more() -> None:
    notice = notice_for(
        done(reasoning="hmm", finish_reason="length"), RunOptions(max_tokens=20), None, PRIMARY
    )
    assert notice is not None and "max_tokens (20) went on reasoning" in notice and "-m" in notice


def test_a_cut_answer_and_a_fallback_answer_are_named() -> None:
    cut = notice_for(done(text="half", finish_reason="length"), RunOptions(), None, PRIMARY)
    assert cut is not None and "cut off" in cut
    other = notice_for(
        done(text="ok", endpoint="https://ai.routing.sh/v1"), RunOptions(), None, PRIMARY
    )
    assert other is not None and "secondary endpoint https://ai.routing.sh/v1" in other


def test_no_notice_for_a_plain_answer_or_a_failure_the_shell_reports() -> None:
    assert notice_for(done(text="ok"), RunOptions(), None, PRIMARY) is None
    failure = errors.ProviderError("all upstreams failed")
    assert notice_for(done(text=""), RunOptions(), failure, PRIMARY) is None


def test_provenance_carries_model_provider_endpoint_and_usage() -> None:
    meta = provenance(done(model="route/glm-5", provider="crof", usage=Usage(3, 4, 7)))
    assert meta["routing_magics"]["usage"]["total_tokens"] == 7
    assert meta["routing_magics"]["endpoint"] == PRIMARY
