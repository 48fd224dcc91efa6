import json

import pytest

from routing_magics.api import errors
from routing_magics.api.errors import api_error


@pytest.mark.parametrize(
    ("status", "code", "cls"),
    [
        (400, "INVALID_MODEL", errors.InvalidModel),
        (401, "AUTHENTICATION_ERROR", errors.AuthenticationError),
        (403, "MODEL_NOT_ALLOWED", errors.ModelNotAllowed),
        (429, "DAILY_REQUEST_LIMIT_EXCEEDED", errors.DailyLimitExceeded),
        (429, "RATE_LIMIT_EXCEEDED", errors.RateLimited),
        (502, "PROVIDER_ERROR", errors.ProviderError),
        (504, "PROVIDER_TIMEOUT", errors.ProviderTimeout),
        (502, None, errors.ProviderError),
        (400, "INVALID_REQUEST", errors.APIError),
        (418, None, errors.APIError),
    ],
)
def test_error_class_for(status: int, code: str | None, cls: type) -> None:
    assert errors.error_class_for(status, code) is cls


def test_message_is_one_line_with_code_and_hint() -> None:
    exc = errors.DailyLimitExceeded("routing.run said: daily cap reached", status=429)
    text = str(exc)
    assert "\n" not in text
    assert "(DAILY_REQUEST_LIMIT_EXCEEDED)" in text
    assert "GET /v1/user/requests" in text and "%route" not in text  # a script's advice
    assert isinstance(exc, errors.RateLimited)  # callers catching RateLimited see the daily cap


# --- error answers ------------------------------------------------------------------------


def test_model_not_allowed_names_the_plans_for_mistral() -> None:
    error = api_error(403, "MODEL_NOT_ALLOWED", "Plan mismatch", "route/mistral-large-3", "E")
    assert isinstance(error, errors.ModelNotAllowed)
    assert "your plan cannot call route/mistral-large-3" in error.message
    assert "Mistral routes need Premium, Max or Ultra" in error.message
    assert "routing.run said: Plan mismatch" in error.message
    assert (error.status, error.code, error.endpoint) == (403, "MODEL_NOT_ALLOWED", "E")


def test_model_not_allowed_for_a_route_whose_family_mixes_tiers() -> None:
    error = api_error(403, "MODEL_NOT_ALLOWED", "", "route/kimi-k2.6", "E")
    assert "route/kimi-k2.6; it needs Lite, Premium, Max or Ultra" in error.message


def test_invalid_model_suggests_close_matches() -> None:
    error = api_error(400, "INVALID_MODEL", "Invalid model", "route/mistral-smal", "E")
    assert isinstance(error, errors.InvalidModel)
    assert "'route/mistral-smal'" in error.message
    assert "did you mean route/mistral-small-2503" in error.message


def test_json_error_body_message_is_used() -> None:
    body = json.dumps({"error": {"message": "Model not found", "type": "invalid_request"}})
    error = api_error(404, None, body, None, "E")
    assert error.message == "routing.run said: Model not found"
    assert error.code == "HTTP_404"


def test_status_without_code_or_body() -> None:
    error = api_error(502, None, "", None, "E")
    assert isinstance(error, errors.ProviderError)
    assert error.message == "routing.run answered HTTP 502"


def test_long_body_is_cut_to_one_line() -> None:
    error = api_error(500, None, "<html>\n" + "y" * 3000, None, "E")
    assert "\n" not in error.message and len(error.message) < 400
