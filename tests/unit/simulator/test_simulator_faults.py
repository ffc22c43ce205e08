"""REST fault switches: 429 with Retry-After, 5xx bursts and probabilities, latency, revoked tokens."""

from __future__ import annotations

import httpx
import pytest

from chatwoot_simulator import FaultInjector, ManualClock, Simulator, serve


def test_the_next_k_requests_are_rate_limited_with_retry_after(sim: Simulator, client: httpx.Client) -> None:
    sim.faults.rate_limit_next(2, retry_after=7)

    responses = [client.get("/agents") for _ in range(3)]

    assert [r.status_code for r in responses] == [429, 429, 200]
    assert responses[0].headers["Retry-After"] == "7"
    assert responses[0].text == "Retry later\n"


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_the_next_k_requests_fail_with_the_chosen_status(sim: Simulator, client: httpx.Client, status: int) -> None:
    sim.faults.fail_next(3, status=status)

    statuses = [client.get("/agents").status_code for _ in range(4)]

    assert statuses == [status, status, status, 200]


def test_rate_limit_comes_before_server_errors(sim: Simulator, client: httpx.Client) -> None:
    sim.faults.fail_next(1, status=502)
    sim.faults.rate_limit_next(1)

    assert [client.get("/agents").status_code for _ in range(3)] == [429, 502, 200]


def test_probabilities_of_zero_and_one(sim: Simulator, client: httpx.Client) -> None:
    sim.faults.rate_limit_probability(1.0, retry_after=3)
    assert {client.get("/agents").status_code for _ in range(5)} == {429}

    sim.faults.rate_limit_probability(0.0)
    sim.faults.fail_probability(1.0, status=503)
    assert {client.get("/agents").status_code for _ in range(5)} == {503}

    sim.faults.fail_probability(0.0)
    assert {client.get("/agents").status_code for _ in range(5)} == {200}


def test_a_seeded_probability_gives_the_same_faults_every_run(http: httpx.Client) -> None:
    def run() -> list[int]:
        sim = Simulator(seed=11, clock=ManualClock())
        account = sim.create_account("A")
        sim.faults.fail_probability(0.5, status=500)
        with serve(simulator=sim) as server:
            url = f"{server.url}/api/v1/accounts/{account.id}/agents"
            headers = {"api_access_token": account.api_token or ""}
            return [http.get(url, headers=headers).status_code for _ in range(20)]

    first, second = run(), run()

    assert first == second
    assert set(first) == {200, 500}


def test_revoked_tokens_get_401_until_restored(sim: Simulator, client: httpx.Client) -> None:
    sim.faults.revoke_tokens()
    revoked = client.get("/agents")
    sim.faults.revoke_tokens(False)
    restored = client.get("/agents")

    assert revoked.status_code == 401
    assert revoked.json() == {"error": "Invalid Access Token"}
    assert restored.status_code == 200


def test_faulted_requests_are_counted_on_their_route(sim: Simulator, client: httpx.Client) -> None:
    sim.faults.rate_limit_next(1)

    client.get("/agents")
    client.get("/agents")

    route = "GET /api/v1/accounts/{account_id}/agents"
    assert sim.requests.count(route) == 2
    assert (sim.requests.count(route, 429), sim.requests.count(route, 200)) == (1, 1)


def test_clear_removes_every_switch(sim: Simulator, client: httpx.Client) -> None:
    sim.faults.rate_limit_next(5)
    sim.faults.fail_probability(1.0)
    sim.faults.revoke_tokens()

    sim.faults.clear()

    assert client.get("/agents").status_code == 200


def test_latency_is_applied_per_request_through_the_sleep_function() -> None:
    slept: list[float] = []
    faults = FaultInjector(seed=5, sleep=slept.append)

    faults.set_latency(0.25)
    faults.apply()
    faults.set_latency((0.1, 0.2))
    faults.apply()
    faults.apply()
    faults.set_latency(None)
    faults.apply()

    assert slept[0] == 0.25
    assert len(slept) == 3
    assert all(0.1 <= delay <= 0.2 for delay in slept[1:])


def test_latency_delays_http_requests(http: httpx.Client) -> None:
    slept: list[float] = []
    sim = Simulator(seed=1, clock=ManualClock(), rest_sleep=slept.append)
    account = sim.create_account("A")
    sim.faults.set_latency(1.5)

    with serve(simulator=sim) as server:
        url = f"{server.url}/api/v1/accounts/{account.id}/agents"
        response = http.get(url, headers={"api_access_token": account.api_token or ""})

    assert response.status_code == 200
    assert slept == [1.5]


def test_invalid_switch_values_are_refused() -> None:
    faults = FaultInjector()

    with pytest.raises(ValueError, match="probability"):
        faults.fail_probability(1.5)
    with pytest.raises(ValueError, match="status"):
        faults.fail_next(1, status=418)
