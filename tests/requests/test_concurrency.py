"""Two commanding officers claiming the same request at the same moment: one wins."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from assistgate.app import App
from assistgate.requests import service
from assistgate.requests.errors import AlreadyHeld
from tests.factories import make_app, new_request


@pytest.fixture
def app(database_url: str, tmp_path: Path) -> Iterator[App]:
    app = make_app(database_url, tmp_path)
    yield app
    app.close()


def _claim_together(app: App, ref: str, officers: list[str]) -> dict[str, str]:
    barrier = threading.Barrier(len(officers))
    results: dict[str, str] = {}

    def attempt(username: str) -> None:
        barrier.wait()
        try:
            with app.transaction() as session:
                service.claim(session, app.deployment, actor=app.user(session, username), ref=ref)
            results[username] = "won"
        except AlreadyHeld as exc:
            results[username] = f"refused: {exc}"

    threads = [threading.Thread(target=attempt, args=(o,)) for o in officers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results


def test_two_simultaneous_claims_give_one_holder_and_one_clear_refusal(app: App) -> None:
    for _ in range(8):
        ref = new_request(app).ref
        results = _claim_together(app, ref, ["lt.okafor", "lt.brandt"])
        winners = [u for u, r in results.items() if r == "won"]
        assert len(winners) == 1, results
        (loser,) = [u for u in results if u not in winners]
        assert results[loser] == (
            f"refused: request {ref} is already held by {winners[0]}; "
            "only one commanding officer can hold a request at a time"
        )
        with app.sessions() as session:
            held = service.get_request(session, ref)
            assert (held.state, held.commander) == ("under_review", winners[0])
