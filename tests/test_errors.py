import pytest

from routing_magics import errors


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
    assert "%route usage" in text
    assert isinstance(exc, errors.RateLimited)  # callers catching RateLimited see the daily cap
