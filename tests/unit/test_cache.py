"""The one per-integration cache: a TTL, and invalidation when the integration's configuration version moves."""

from __future__ import annotations

from chatwoot_integration.cache import IntegrationCache
from tests.fake_time import FakeTime


def counting_loader() -> tuple[list[int], IntegrationCache[str], FakeTime]:
    loads: list[int] = []
    time = FakeTime()

    def load(integration_id: int) -> str | None:
        loads.append(integration_id)
        return None if integration_id == 404 else f"value-{integration_id}-{len(loads)}"

    cache: IntegrationCache[str] = IntegrationCache(load, ttl_seconds=30, clock=time.monotonic)
    return loads, cache, time


def test_a_value_is_loaded_once_within_the_ttl_and_again_after_it() -> None:
    loads, cache, time = counting_loader()

    first = cache.get(1)
    time.advance(29.9)
    assert cache.get(1) == first
    time.advance(0.2)
    assert cache.get(1) != first

    assert loads == [1, 1]


def test_a_new_configuration_version_loads_again_at_once() -> None:
    loads, cache, _ = counting_loader()

    first = cache.get(1, version=3)
    assert cache.get(1, version=3) == first
    assert cache.get(1, version=4) != first
    assert loads == [1, 1]


def test_a_miss_is_cached_too_and_integrations_are_kept_apart() -> None:
    loads, cache, _ = counting_loader()

    assert cache.get(404) is None and cache.get(404) is None
    assert cache.get(2) == "value-2-2"
    assert loads == [404, 2]


def test_invalidation_forgets_one_integration_or_all() -> None:
    loads, cache, _ = counting_loader()
    cache.get(1)
    cache.get(2)

    cache.invalidate(1)
    cache.get(1)
    cache.get(2)
    cache.invalidate()
    cache.get(2)

    assert loads == [1, 2, 1, 2]


def test_a_ttl_of_none_keeps_a_value_until_the_version_moves_and_zero_keeps_nothing() -> None:
    time = FakeTime()
    built: list[int] = []

    def build(integration_id: int) -> int:
        built.append(integration_id)
        return len(built)

    forever: IntegrationCache[int] = IntegrationCache(ttl_seconds=None, clock=time.monotonic)
    never: IntegrationCache[int] = IntegrationCache(build, ttl_seconds=0, clock=time.monotonic)

    assert forever.get(7, version=1, load=build) == 1
    time.advance(10_000)
    assert forever.get(7, version=1, load=build) == 1
    assert forever.get(7, version=2, load=build) == 2
    assert [never.get(7), never.get(7)] == [3, 4]
