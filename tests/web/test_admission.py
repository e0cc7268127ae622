"""Under a burst the service makes requests wait their turn instead of failing them."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import httpx
from sqlalchemy import func, select

from assistgate.requests.models import Request
from assistgate.web.admission import Admission
from tests.factories import make_app
from tests.integrations.helpers import NEW_REQUEST, bearer, make_token, serving_api

T = TypeVar("T")


def run_apart(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run `coroutine` on an event loop of its own thread (the browser's owns this one)."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def test_a_burst_of_intakes_is_answered_in_full_with_nothing_lost(
    database_url: str, tmp_path: Path
) -> None:
    # More at once than the service has worker threads and database connections.
    burst = 120
    app = make_app(database_url, tmp_path)
    try:
        headers = bearer(make_token(app))

        async def send_all(base: str) -> list[int]:
            limits = httpx.Limits(max_connections=burst)
            async with httpx.AsyncClient(base_url=base, limits=limits, timeout=120) as client:
                answers = await asyncio.gather(*(
                    client.post("/api/v1/requests", headers=headers,
                                json={**NEW_REQUEST, "cad_incident_id": f"LMPD-2026-{n:06d}"})
                    for n in range(burst)))  # fmt: skip
            return [a.status_code for a in answers]

        with serving_api(app) as base:
            codes = run_apart(send_all(base))
        assert codes == [201] * burst
        with app.sessions() as session:
            assert session.scalar(select(func.count()).select_from(Request)) == burst
    finally:
        app.close()


def test_a_request_that_cannot_start_in_time_is_told_to_retry() -> None:
    release = asyncio.Event()

    async def slow(scope: Any, receive: Any, send: Any) -> None:
        if scope["path"] == "/slow":
            await release.wait()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"done"})

    gate = Admission(slow, limit=1, wait_seconds=0.2)

    async def call(path: str) -> tuple[int, dict[str, str], bytes]:
        sent: list[dict[str, Any]] = []

        async def send(message: Any) -> None:
            sent.append(message)

        async def receive() -> Any:
            return {"type": "http.request", "body": b""}

        await gate({"type": "http", "path": path}, receive, send)
        headers = {k.decode(): v.decode() for k, v in sent[0].get("headers", [])}
        return sent[0]["status"], headers, sent[-1]["body"]

    async def scenario() -> list[tuple[int, dict[str, str], bytes]]:
        holder = asyncio.create_task(call("/slow"))
        await asyncio.sleep(0.05)
        late = await call("/api/v1/requests")
        stream = await call("/queue/events")  # live streams are never held back
        release.set()
        return [await holder, late, stream]

    (first, _, _), (status, headers, body), (stream, _, _) = run_apart(scenario())
    assert (first, status, stream) == (200, 503, 200)
    assert headers["retry-after"] == "1"
    assert "nothing was written" in json.loads(body)["detail"]
