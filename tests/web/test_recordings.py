"""Recordings on the web: uploads by API and screen, playing with seeking (range requests),
every play on the timeline, and nobody else hearing them."""

from __future__ import annotations

import re
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Page, expect
from sqlalchemy import select

from assistgate.app import App
from assistgate.auth.sessions import create_token
from assistgate.ledger.models import LedgerEntryRow
from assistgate.recordings.enums import Source
from assistgate.recordings.service import ingest
from assistgate.recordings.wiring import archive_for
from assistgate.requests import service
from assistgate.web.app import create_web_app
from tests.factories import new_request
from tests.recordings.audio import every_format
from tests.web.conftest import browser_sign_in, sign_in


@pytest.fixture(scope="module")
def audio(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return every_format(tmp_path_factory.mktemp("web-audio"))


def held(app: App) -> str:
    ref = new_request(app).ref
    with app.transaction() as db:
        service.claim(db, app.deployment, actor=app.user(db, "lt.okafor"), ref=ref)
    return ref


def attached(app: App, ref: str, data: bytes, name: str = "okafor-call.wav") -> str:
    with app.transaction() as db:
        done = ingest(db, archive_for(app), actor=app.user(db, "lt.okafor"), data=data,
                      name=name, source=Source.UPLOAD, ref=ref)  # fmt: skip
        return done.recording.sha256


def events(app: App, ref: str, event: str) -> list[str]:
    with app.sessions() as db:
        return list(db.scalars(select(LedgerEntryRow.actor).where(
            LedgerEntryRow.subject == ref, LedgerEntryRow.event == event)))  # fmt: skip


def csrf_of(client: TestClient, url: str) -> str:
    page = client.get(url)
    assert page.status_code == 200, page.status_code
    return str(re.findall(r'name="csrf_token" value="([^"]+)"', page.text)[0])


@pytest.fixture
def other(web_app: App) -> Iterator[TestClient]:
    """A second browser, for a second person."""
    with TestClient(create_web_app(web_app), base_url="http://127.0.0.1") as c:
        yield c


def test_a_recorder_token_uploads_by_api_and_the_same_bytes_again_are_the_same_recording(
    web_app: App, client: TestClient, audio: dict[str, Path]
) -> None:
    ref = held(web_app)
    with web_app.transaction() as db:
        recorder = create_token(db, name="nexlog", scopes=["recordings:write"],
                                user=web_app.user(db, "cad"))  # fmt: skip
        reader = create_token(db, name="reader", scopes=["requests:read"],
                              user=web_app.user(db, "cad"))  # fmt: skip
    url = f"/api/v1/requests/{ref}/recordings"
    m4a = ("NX-77812.m4a", audio["m4a"].read_bytes(), "audio/mp4")
    auth = {"Authorization": f"Bearer {recorder}"}
    first = client.post(url, files={"file": m4a}, headers=auth)
    assert first.status_code == 201, first.text
    body = first.json()
    assert (body["format"], body["codec"], body["created"]) == ("m4a", "aac", True)
    assert body["size"] == len(m4a[1])
    assert body["duration_seconds"] > 3
    again = client.post(url, files={"file": m4a}, headers=auth)
    assert again.status_code == 200
    assert again.json()["sha256"] == body["sha256"]
    assert events(web_app, ref, "request:recording_attached") == ["cad"]
    denied = client.post(url, files={"file": m4a}, headers={"Authorization": f"Bearer {reader}"})
    assert denied.status_code == 403
    cut = client.post(url, files={"file": ("cut.m4a", m4a[1][:-300], "audio/mp4")}, headers=auth)
    assert cut.status_code == 422
    assert "cut short" in cut.json()["detail"]
    liar = client.post(url, files={"file": ("call.mp3", b"<html>not audio</html>" * 9,
                                            "audio/mpeg")}, headers=auth)  # fmt: skip
    assert liar.status_code == 422
    assert "not a recognised audio file" in liar.json()["detail"]
    missing = client.post("/api/v1/requests/AG-2018-9999/recordings", files={"file": m4a},
                          headers=auth)  # fmt: skip
    assert missing.status_code == 404


def test_a_commander_uploads_on_the_request_screen_and_a_call_taker_cannot(
    web_app: App, client: TestClient, other: TestClient, audio: dict[str, Path]
) -> None:
    ref = held(web_app)
    sign_in(client, "lt.okafor")
    csrf = csrf_of(client, f"/requests/{ref}")
    wav = ("okafor-call.flac", audio["flac"].read_bytes(), "audio/flac")
    done = client.post(f"/requests/{ref}/recording", data={"csrf_token": csrf},
                       files={"file": wav}, follow_redirects=False)  # fmt: skip
    assert done.status_code == 303
    page = client.get(f"/requests/{ref}/recordings").text
    assert "okafor-call.flac" in page
    assert "flac (flac)" in page
    broken = client.post(f"/requests/{ref}/recording", data={"csrf_token": csrf},
                         files={"file": ("x.wav", b"RIFF\x00\x00", "audio/wav")})  # fmt: skip
    assert broken.status_code == 422
    assert "x.wav: " in broken.text
    sign_in(other, "ct.alvarez")
    assert other.get(f"/requests/{ref}/recordings").status_code == 403
    api = other.post(f"/api/v1/requests/{ref}/recordings", files={"file": wav},
                     headers={"X-CSRF-Token": "anything"})  # fmt: skip
    assert api.status_code == 403


def test_seeking_is_one_play_answered_with_206_and_a_call_taker_gets_403(
    web_app: App, client: TestClient, other: TestClient, audio: dict[str, Path]
) -> None:
    ref = held(web_app)
    original = audio["wav"].read_bytes()
    sha = attached(web_app, ref, original)
    sign_in(client, "ig.rowe")  # an auditor
    csrf = csrf_of(client, f"/requests/{ref}/recordings")
    played = client.post(f"/requests/{ref}/recordings/{sha}/play", data={"csrf_token": csrf},
                         follow_redirects=False)  # fmt: skip
    assert played.status_code == 303
    stream = re.findall(r'src="(/recordings/stream/[^"]+)"',
                        client.get(played.headers["location"]).text)[0]  # fmt: skip
    part = client.get(stream, headers={"Range": "bytes=1000-1999"})
    assert part.status_code == 206
    assert part.headers["content-range"] == f"bytes 1000-1999/{len(original)}"
    assert part.content == original[1000:2000]
    tail = client.get(stream, headers={"Range": "bytes=-500"})
    assert (tail.status_code, tail.content) == (206, original[-500:])
    whole = client.get(stream)
    assert (whole.status_code, whole.content) == (200, original)
    assert whole.headers["content-type"] == "audio/wav"
    beyond = client.get(stream, headers={"Range": f"bytes={len(original)}-"})
    assert beyond.status_code == 416
    assert events(web_app, ref, "recording:played") == ["ig.rowe"]
    sign_in(other, "ct.alvarez")
    assert other.get(stream).status_code == 403
    assert other.post(f"/requests/{ref}/recordings/{sha}/play",
                      data={"csrf_token": "x"}).status_code == 403  # fmt: skip
    sign_in(other, "lt.brandt")  # a commander, but not the one the play was granted to
    assert other.get(stream).status_code == 404


def test_a_download_is_the_original_and_is_on_the_ledger(
    web_app: App, client: TestClient, audio: dict[str, Path]
) -> None:
    ref = held(web_app)
    original = audio["ogg-vorbis"].read_bytes()
    sha = attached(web_app, ref, original, "NX-9.ogg")
    sign_in(client, "lt.okafor")
    csrf = csrf_of(client, f"/requests/{ref}/recordings")
    got = client.post(f"/requests/{ref}/recordings/{sha}/download", data={"csrf_token": csrf})
    assert got.status_code == 200
    assert got.content == original
    assert 'filename="NX-9.ogg"' in got.headers["content-disposition"]
    assert events(web_app, ref, "recording:downloaded") == ["lt.okafor"]


def test_a_blocked_recording_shows_its_details_but_does_not_play(
    web_app: App, client: TestClient, other: TestClient, audio: dict[str, Path]
) -> None:
    ref = held(web_app)
    sha = attached(web_app, ref, audio["mp3"].read_bytes(), "okafor.mp3")
    sign_in(other, "admin.kim")
    csrf = csrf_of(other, "/admin/recordings")
    blocked = other.post(f"/admin/recordings/{sha}/block",
                         data={"csrf_token": csrf, "reason": "Court order 18-CI-0412"})  # fmt: skip
    assert blocked.status_code == 200
    assert "Playback blocked" in blocked.text
    sign_in(client, "lt.okafor")
    page = client.get(f"/requests/{ref}/recordings").text
    assert "okafor.mp3" in page
    assert sha in page
    assert "Playback blocked by an administrator: Court order 18-CI-0412" in page
    csrf = re.findall(r'name="csrf_token" value="([^"]+)"', page)[0]
    refused = client.post(f"/requests/{ref}/recordings/{sha}/play", data={"csrf_token": csrf})
    assert refused.status_code == 451
    assert events(web_app, ref, "recording:played") == []
    assert events(web_app, ref, "recording:playback_blocked") == ["admin.kim"]


def audio_state(page: Page, name: str, at_least: float, seconds: float = 30) -> None:
    """Wait until the player's `name` property reaches `at_least`."""
    deadline = time.monotonic() + seconds
    while page.evaluate(f"() => document.querySelector('#audio').{name}") < at_least:
        assert time.monotonic() < deadline, f"the player's {name} stayed below {at_least}"
        time.sleep(0.05)


def test_in_the_browser_a_commander_plays_seeks_and_sees_the_play_on_the_timeline(
    web_app: App, live_server: str, page: Page, audio: dict[str, Path], tmp_path: Path
) -> None:
    ref = held(web_app)
    # Long enough (about 10 MB) that the browser fetches only the start and asks for a range
    # when the listener seeks, as it does with a real call.
    long_call = tmp_path / "okafor-call.wav"
    subprocess.run(["sox", str(audio["wav"]), str(long_call), "repeat", "60"], check=True)
    attached(web_app, ref, long_call.read_bytes())
    browser_sign_in(page, live_server, "lt.okafor")
    page.goto(f"{live_server}/requests/{ref}")
    page.get_by_role("link", name="Recordings of this request: play, download").click()
    page.get_by_role("button", name="Play okafor-call.wav").click()
    player = page.locator("#audio")
    expect(player).to_be_visible()
    # Polled from here: the CSP forbids the eval that wait_for_function's predicates use.
    audio_state(page, "readyState", 1)
    ranges: list[tuple[int, str]] = []
    page.on("response", lambda r: ranges.append((r.status, r.headers.get("content-range", "")))
            if "/recordings/stream/" in r.url else None)  # fmt: skip
    with page.expect_response(lambda r: "/recordings/stream/" in r.url and r.status == 206):
        page.evaluate("""() => { const a = document.querySelector('#audio');
                                 a.muted = true; a.currentTime = a.duration * 0.75;
                                 return a.play().catch(() => null); }""")
    assert any(status == 206 and not rng.startswith("bytes 0-") for status, rng in ranges), ranges
    audio_state(page, "currentTime", 1)
    page.goto(f"{live_server}/requests/{ref}")
    played = page.locator("#steps tr[data-event='recording:played']")
    expect(played).to_have_count(1)
    expect(played).to_contain_text("lt.okafor")
    expect(played).to_contain_text("Recording played")


def test_in_the_browser_a_call_taker_cannot_reach_the_recordings(
    web_app: App, live_server: str, page: Page, audio: dict[str, Path]
) -> None:
    ref = held(web_app)
    attached(web_app, ref, audio["wav"].read_bytes())
    browser_sign_in(page, live_server, "ct.alvarez")
    response = page.goto(f"{live_server}/requests/{ref}/recordings")
    assert response is not None
    assert response.status == 403
    expect(page.locator("body")).not_to_contain_text("okafor-call.wav")
