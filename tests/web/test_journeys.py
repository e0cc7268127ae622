"""The journeys on the 911 floor and in the command office, in Debian's Chromium.

A call taker's intake reaches a commander's open queue without a reload; the commander claims
it, enters the facts while the policy's answer follows, decides (giving the password again),
records the dispatch, the arrival and the closure, and the timeline shows every step. A call
taker cannot open the decision screen. A request nobody claims escalates on time. (Two
server processes on one PostgreSQL database: test_two_processes.py.)
"""

from __future__ import annotations

import datetime as dt
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import pyotp
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect
from sqlalchemy import select, update

from assistgate.app import App
from assistgate.auth.models import User, WebSession
from assistgate.integrations.notifier import FakeNotifier, SentAlert
from assistgate.requests.escalation import EscalationLoop
from assistgate.web.app import create_web_app
from tests.recordings.audio import speak
from tests.web.conftest import PASSWORD, TOTP
from tests.web.conftest import serving as serve_in_thread
from tests.web.test_floor import open_floor_app


@pytest.fixture
def floor(database_url: str, tmp_path: Path) -> Iterator[App]:
    yield from open_floor_app(database_url, tmp_path / "data")


@contextmanager
def serving(app: App, notifier: FakeNotifier) -> Iterator[str]:
    """Serve the app on a free loopback port, alerting through `notifier`; yield its address."""
    web = create_web_app(app)
    web.state.notifier = notifier
    with serve_in_thread(web) as base:
        yield base


def sign_in(page: Page, base: str, username: str) -> None:
    """Sign in through the screens: password, then the second factor.

    The sign-in routes commit after their redirect is sent, so on PostgreSQL the next page can
    be asked for before the session is saved and bounce back to a sign-in page; a person would
    simply reload, and so does this, a few times at most.
    """
    page.goto(f"{base}/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()
    code_sent = False
    for _ in range(20):
        path = urlsplit(page.url).path
        if path == "/login/second-factor" and not code_sent:
            page.get_by_label("Six-digit code").fill(pyotp.TOTP(TOTP[username]).now())
            page.get_by_role("button", name="Continue").click()
            page.wait_for_load_state()
            code_sent = True
        elif path.startswith("/login"):
            time.sleep(0.1)
            page.goto(f"{base}/login/second-factor" if not code_sent else f"{base}/")
        else:
            return
    raise AssertionError(f"{username} could not sign in; the browser is at {page.url}")


@contextmanager
def person(browser: Browser, base: str, username: str, **options: object) -> Iterator[Page]:
    """A browser window of its own, signed in as `username`."""
    context: BrowserContext = browser.new_context(**options)  # type: ignore[arg-type]
    try:
        page = context.new_page()
        sign_in(page, base, username)
        yield page
    finally:
        context.close()


def set_duty(app: App, ranks: dict[str, int]) -> None:
    with app.transaction() as session:
        for user in session.scalars(select(User)):
            user.on_duty = user.username in ranks
            user.duty_rank = ranks.get(user.username, 100)


def open_queue(page: Page, base: str) -> None:
    page.goto(f"{base}/queue")
    expect(page.locator("#live-status")).to_have_text("Live")


def take_the_call(page: Page, base: str) -> str:
    """Fill the intake form as a call taker does and send it with Enter; return the ref."""
    page.goto(f"{base}/intake")
    page.get_by_label("Agency calling").select_option("ice-ero")
    page.get_by_label("Official's name").fill("Deportation Officer K. Marsh (fictional)")
    page.get_by_label("Callback number").fill("502-555-0142")
    page.get_by_label("How you confirmed who is calling").select_option("callback_known_number")
    page.get_by_label("Location").fill("1234 S 4th St")
    page.get_by_label("District").fill("4")
    page.get_by_label("Serve a criminal warrant").check()
    page.get_by_label("Knock on a door with them").check()
    page.get_by_label("What they said, in their words").fill(
        "Agents at an apartment ask for a unit to serve a circuit court warrant."
    )
    page.get_by_label("District").press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Hold the call: the commanding officer has been alerted."
    )
    return page.locator("#held-ref").inner_text()


def test_an_intake_reaches_the_open_queue_and_is_taken_through_to_closure(
    floor: App, browser: Browser, tmp_path: Path
) -> None:
    fake = FakeNotifier()
    set_duty(floor, {"lt.okafor": 1})
    with (
        serving(floor, fake) as base,
        person(browser, base, "lt.okafor") as queue,
        person(browser, base, "ct.alvarez") as taker,
    ):
        open_queue(queue, base)
        expect(queue.locator("#group-waiting")).to_contain_text("(0)")
        sent = time.monotonic()
        ref = take_the_call(taker, base)
        item = queue.locator(f'li[data-ref="{ref}"]')
        expect(item).to_be_visible(timeout=3000)
        arrived = time.monotonic() - sent
        expect(item).to_have_class("item state-awaiting_review flash")
        expect(queue.locator("#new-banner")).to_have_text(f"New request {ref} awaiting review.")
        expect(queue.locator("#queue-announce")).to_contain_text(ref)
        assert queue.evaluate("performance.getEntriesByType('navigation').length") == 1
        # The Enter, the intake's commit, the event and the refetch, all within a second or so.
        assert arrived < 1.5, f"the queue showed the request {arrived:.2f} s after the intake"
        taker.screenshot(path=tmp_path / "1-held.png", full_page=True)
        queue.screenshot(path=tmp_path / "2-queue.png", full_page=True)
        assert fake.wait_for(1) == [SentAlert("lt.okafor", ref, 0)]

        # The call taker cannot open the decision screen.
        refused = taker.goto(f"{base}/requests/{ref}")
        assert refused is not None
        assert refused.status == 403
        expect(taker.get_by_role("heading", level=1)).to_have_text("Not for your role")

        # The commander claims it from the queue; the answer follows the facts.
        with floor.transaction() as session:  # the password was given long ago
            session.execute(update(WebSession).values(
                authenticated_at=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=20)))  # fmt: skip
        queue.get_by_role("button", name=f"Claim {ref}").click()
        expect(queue.locator(".notice.done")).to_contain_text("You hold this request")
        answer = queue.locator("#answer-body")
        expect(answer).to_contain_text("Decline: no officers")
        approve = queue.get_by_role("checkbox", name="Serve a criminal warrant (not permitted)")
        expect(approve).to_be_disabled()
        queue.get_by_label("Kind of warrant").select_option("judicial_criminal")
        queue.get_by_label("I confirmed the warrant (with the clerk or NCIC)").check()
        expect(answer).to_contain_text("May send officers")
        expect(answer.locator(".prohibited")).to_have_text("Knock on a door with them")
        expect(answer).to_contain_text("lmpd.no-immigration-enforcement")
        queue.get_by_label("Signed by").select_option("immigration_officer")
        expect(answer).to_contain_text("The facts do not hold together yet")
        expect(answer).to_contain_text("warrant.issued by")
        queue.get_by_label("Signed by").select_option("state_judge")
        expect(answer).to_contain_text("May send officers")
        queue.locator("#approve").get_by_label("Serve a criminal warrant").check()
        expect(queue.locator("#decision-preview")).to_contain_text("send officers for Serve")
        queue.get_by_label("Your note: why you decide this").fill("Bench warrant confirmed.")
        queue.screenshot(path=tmp_path / "3-assessment.png", full_page=True)
        queue.get_by_label("Your password").fill(PASSWORD)
        queue.get_by_role("button", name="Confirm the decision").click()
        expect(queue.locator(".notice.done")).to_have_text("The decision is recorded.")

        # Dispatch, arrival, recording, clearing, closure.
        queue.get_by_label("Units sent").fill("4A21 4A22")
        queue.get_by_role("button", name="Record the dispatch").click()
        expect(queue.locator(".notice.done")).to_contain_text("The dispatch is recorded")
        queue.get_by_role("button", name="I am on scene").click()
        expect(queue.locator(".notice.done")).to_have_text("Your arrival on scene is recorded.")
        queue.get_by_label("Call recording (WAV, MP3, FLAC, Ogg, M4A)").set_input_files(
            speak(tmp_path / "okafor-call.wav", "Okafor for the record, warrant confirmed.")
        )
        queue.get_by_role("button", name="Attach the recording").click()
        expect(queue.locator(".notice.done")).to_have_text("The call recording is attached.")
        queue.get_by_role("button", name="Officers have cleared the scene").click()
        expect(queue.locator(".notice.done")).to_have_text("The officers have cleared the scene.")
        queue.get_by_role("button", name="Close the request").click()
        expect(queue.locator("#error-summary")).to_contain_text("immigration_status_asked")
        queue.locator("#close").get_by_label("Serve a criminal warrant").check()
        queue.get_by_label("Police arrests").fill("theft")
        queue.get_by_label("I confirm that no officer asked anyone's immigration status").check()
        queue.get_by_role("button", name="Close the request").click()
        expect(queue.locator(".notice.done")).to_have_text("The request is closed.")

        timeline = queue.locator("#steps tbody tr")
        expect(timeline).to_have_count(9)
        expect(timeline.locator("td:nth-child(4)")).to_have_text([
            "Registered", "Commander alerted", "Claimed", "Decided", "Units dispatched",
            "Commander on scene", "Recording attached", "Scene cleared", "Closed"])  # fmt: skip
        expect(queue.locator("#steps span.ok")).to_have_count(9)
        expect(queue.locator("#timeline .verification")).to_contain_text(
            re.compile(r"\((\d+) of \1 match\)")
        )
        queue.screenshot(path=tmp_path / "4-closed.png", full_page=True)

        # The same screen on a phone, where commanders in the field read it.
        with person(browser, base, "lt.okafor", viewport={"width": 390, "height": 844}) as phone:
            phone.goto(f"{base}/requests/{ref}")
            width = phone.evaluate("document.documentElement.scrollWidth")
            phone.screenshot(path=tmp_path / "5-phone-top.png")
            phone.locator("#timeline").screenshot(path=tmp_path / "5-phone-timeline.png")
            assert width <= 390, f"the request screen is {width} px wide on a phone"


def test_a_request_nobody_claims_escalates_on_time_and_the_pager_fake_gets_every_alert(
    database_url: str, tmp_path: Path, browser: Browser
) -> None:
    fake = FakeNotifier()
    opened = contextmanager(open_floor_app)(database_url, tmp_path / "data",
                                            escalate_after_seconds=1)  # fmt: skip
    with opened as app:
        set_duty(app, {"lt.okafor": 1, "lt.brandt": 2})
        loop = EscalationLoop.from_settings(app.sessions, app.deployment, app.settings,
                                            notifier=fake)  # fmt: skip
        with (
            serving(app, fake) as base,
            loop,
            person(browser, base, "maj.chen") as queue,
            person(browser, base, "ct.alvarez") as taker,
        ):
            open_queue(queue, base)
            ref = take_the_call(taker, base)
            sent = time.monotonic()
            fake.wait_for(3, timeout=6)
            waited = time.monotonic() - sent
            # The intake alert and the escalations come from two threads: compare by level.
            alerts = sorted(fake.sent, key=lambda a: a.level)
            assert alerts[:3] == [SentAlert("lt.okafor", ref, 0), SentAlert("lt.brandt", ref, 1),
                                  SentAlert("command-staff", ref, 2)], fake.sent  # fmt: skip
            # Two limits of one second each, and the loop looks every quarter of the limit.
            assert 1.7 <= waited < 3.5, f"the third alert came {waited:.2f} s after the intake"
            expect(queue.locator(f'li[data-ref="{ref}"] .escalated')).to_contain_text("Escalated")
            queue.screenshot(path=tmp_path / "6-escalated.png", full_page=True)
            queue.get_by_role("button", name=f"Claim {ref}").click()
            expect(queue.locator(".notice.done")).to_contain_text("You hold this request")
            settled = len(fake.sent)
            time.sleep(1.5)
            assert len(fake.sent) == settled, "a claimed request went on escalating"
