"""RetryPolicy arithmetic: exponential delays, the cap, jitter bounds, which errors qualify."""

from __future__ import annotations

import pytest

from llmorch.pipeline import RetryPolicy, StepError


def test_delays_grow_exponentially_up_to_the_cap() -> None:
    policy = RetryPolicy(base_delay_s=1.0, multiplier=3.0, max_delay_s=10.0, jitter=0.0)
    assert [policy.delay_s(n) for n in range(1, 5)] == [1.0, 3.0, 9.0, 10.0]


def test_jitter_spreads_a_delay_within_its_fraction() -> None:
    low = RetryPolicy(base_delay_s=2.0, jitter=0.25, random=lambda: 0.0)
    high = RetryPolicy(base_delay_s=2.0, jitter=0.25, random=lambda: 0.999999)
    assert low.delay_s(1) == pytest.approx(1.5)
    assert high.delay_s(1) == pytest.approx(2.5, abs=1e-5)


def test_default_jitter_varies_real_delays_within_bounds() -> None:
    policy = RetryPolicy(base_delay_s=1.0, jitter=0.2)
    delays = {policy.delay_s(1) for _ in range(50)}
    assert len(delays) > 1
    assert all(0.8 <= d <= 1.2 for d in delays)


def test_should_retry_follows_the_error_flag_unless_codes_are_listed() -> None:
    transient = StepError("timeout", "slow", retryable=True)
    permanent = StepError("config", "bad", retryable=False)
    by_flag = RetryPolicy(max_attempts=3)
    by_code = RetryPolicy(max_attempts=3, retry_on=frozenset({"config"}))

    assert by_flag.should_retry(transient, 1) and not by_flag.should_retry(permanent, 1)
    assert by_code.should_retry(permanent, 1) and not by_code.should_retry(transient, 1)
    assert not by_flag.should_retry(transient, 3)  # attempts used up


@pytest.mark.parametrize(
    "kwargs",
    [{"max_attempts": 0}, {"base_delay_s": -1.0}, {"multiplier": 0.5}, {"jitter": 1.5}],
)
def test_nonsense_policies_are_rejected(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        RetryPolicy(**kwargs)  # pyright: ignore[reportArgumentType]


def test_jitter_never_pushes_a_delay_past_the_cap() -> None:
    policy = RetryPolicy(base_delay_s=10.0, max_delay_s=10.0, jitter=0.2, random=lambda: 0.999999)
    assert policy.delay_s(1) <= 10.0
    assert policy.delay_s(5) <= 10.0
    low = RetryPolicy(base_delay_s=10.0, max_delay_s=10.0, jitter=0.2, random=lambda: 0.0)
    assert low.delay_s(5) == pytest.approx(8.0)  # still spread below the cap


def test_a_policy_with_thousands_of_attempts_keeps_waiting_the_cap() -> None:
    policy = RetryPolicy(max_attempts=5000, base_delay_s=0.1, max_delay_s=5.0, jitter=0.0)
    assert policy.delay_s(1100) == 5.0
