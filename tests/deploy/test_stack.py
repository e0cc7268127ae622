"""The deployment as shipped: nginx's configuration checks, the systemd units verify, and the
whole stack (`deploy/stack.sh`: PostgreSQL, two `assistgate serve`, nginx with TLS) comes up
on loopback and behaves as the guide says. Skipped where nginx is not installed
(`bash scripts/test.sh` installs it)."""

from __future__ import annotations

import os
import re
import shutil
import socket
import ssl
import subprocess
import threading
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from assistgate.app import open_app
from assistgate.auth.models import User
from assistgate.auth.service import add_user
from assistgate.db.base import utcnow
from assistgate.settings import Settings
from tests.factories import PEOPLE
from tests.web.conftest import TOTP, sign_in
from tests.web.test_floor import CALL, password_hash

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
needs_nginx = pytest.mark.skipif(NGINX is None, reason="nginx is not installed "
                                 "(bash scripts/test.sh installs it)")  # fmt: skip


@needs_nginx
def test_the_shipped_site_configuration_passes_nginx_t(tmp_path: Path) -> None:
    """The site file as installed (snippets in /etc/nginx/snippets), with a certificate here."""
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1", "-subj", "/CN=t",
                    "-keyout", str(key), "-out", str(cert)], check=True,
                   capture_output=True)  # fmt: skip
    site = (DEPLOY / "nginx" / "assistgate.conf").read_text()
    site = (site.replace("/etc/nginx/snippets/", f"{DEPLOY}/nginx/")
            .replace("/etc/ssl/assistgate/fullchain.pem", str(cert))
            .replace("/etc/ssl/assistgate/privkey.pem", str(key))
            .replace("/var/log/nginx/", f"{tmp_path}/"))  # fmt: skip
    (tmp_path / "site.conf").write_text(site)
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\nevents {{}}\n"
        f"http {{\n    include {tmp_path}/site.conf;\n}}\n"
    )
    command = [NGINX or "nginx", "-t", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")]
    checked = subprocess.run(command, capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr
    assert "test is successful" in checked.stderr
    assert "warn" not in checked.stderr, checked.stderr


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="no systemd-analyze")
def test_the_systemd_units_verify(tmp_path: Path) -> None:
    for unit in (DEPLOY / "systemd").iterdir():
        text = unit.read_text().replace("/opt/assistgate/venv/bin/assistgate", "/bin/true")
        name = unit.name.replace("@.service", "@8001.service")
        (tmp_path / name).write_text(text)
    units = sorted(str(p) for p in tmp_path.iterdir())
    checked = subprocess.run(["systemd-analyze", "verify", "--man=no", *units],
                             capture_output=True, text=True)  # fmt: skip
    # Unknown keys and bad values are only warnings: any output is a mistake in a unit.
    assert checked.returncode == 0, checked.stderr
    problems = [
        line for line in checked.stderr.splitlines() if "/tmp" in line or ".service" in line
    ]
    assert not problems, "\n".join(problems)


# --- The whole stack --------------------------------------------------------------------------


@dataclass(frozen=True)
class Stack:
    folder: Path
    url: str
    http_url: str
    cert: Path

    def client(self) -> httpx.Client:
        trusted = ssl.create_default_context(cafile=str(self.cert))
        return httpx.Client(base_url=self.url, verify=trusted, timeout=15)


def stack_command(folder: Path, action: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTGATE_")}
    env["ASSISTGATE_STACK_DIR"] = str(folder)
    return subprocess.run(["bash", str(DEPLOY / "stack.sh"), action], env=env,
                          capture_output=True, text=True, timeout=300)  # fmt: skip


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    if NGINX is None:
        pytest.skip("nginx is not installed (bash scripts/test.sh installs it)")
    folder = tmp_path_factory.mktemp("stack") / "s"
    started = stack_command(folder, "up")
    try:
        assert started.returncode == 0, started.stderr
        url = started.stdout.strip()
        assert re.fullmatch(r"https://127\.0\.0\.1:\d+/", url), started.stdout
        stack = Stack(folder, url.rstrip("/"), (folder / "http_url").read_text().strip(),
                      folder / "tls" / "cert.pem")  # fmt: skip
        add_people(folder)
        yield stack
    finally:
        stopped = stack_command(folder, "down")
        assert stopped.returncode == 0, stopped.stderr
    assert not folder.exists()


def add_people(folder: Path) -> None:
    """Add the test's people to the stack's database, as an administrator would."""
    values = dict(line.split("=", 1) for line in (folder / "assistgate.env").read_text().split())
    settings = Settings.from_env(values)
    assert settings.environment == "production"
    app = open_app(settings)
    try:
        with app.transaction() as session:
            for username, (name, role, extension) in PEOPLE.items():
                add_user(session, username=username, display_name=name, roles=[role],
                         extension=extension)  # fmt: skip
            for user in session.scalars(select(User)):
                user.password_hash = password_hash()
                user.totp_secret = TOTP[user.username]
                user.totp_enrolled_at = utcnow()
    finally:
        app.close()


def handshake(stack: Stack, *, lowest: ssl.TLSVersion, highest: ssl.TLSVersion) -> str:
    """Connect with only TLS versions lowest..highest offered; return the version agreed."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.load_verify_locations(stack.cert)
    # Let this client offer old versions at all (Debian's OpenSSL refuses them by default), so
    # that a refusal comes from the server.
    context.set_ciphers("DEFAULT:@SECLEVEL=0")
    with warnings.catch_warnings():  # offering TLS 1.0 and 1.1 is the point here
        warnings.simplefilter("ignore", DeprecationWarning)
        context.minimum_version, context.maximum_version = lowest, highest
    port = int(stack.url.rsplit(":", 1)[1])
    with (
        socket.create_connection(("127.0.0.1", port), timeout=10) as raw,
        context.wrap_socket(raw, server_hostname="localhost") as tls,
    ):
        return str(tls.version())


def test_only_tls_1_2_and_1_3_are_accepted(stack: Stack) -> None:
    v = ssl.TLSVersion
    assert handshake(stack, lowest=v.TLSv1_2, highest=v.TLSv1_3) == "TLSv1.3"
    assert handshake(stack, lowest=v.TLSv1_2, highest=v.TLSv1_2) == "TLSv1.2"
    for old in (v.TLSv1_1, v.TLSv1):
        with pytest.raises(ssl.SSLError) as refused:
            handshake(stack, lowest=v.TLSv1, highest=old)
        # The server's alert, not this client declining to try.
        assert "PROTOCOL_VERSION" in str(refused.value).upper(), refused.value


def test_plain_http_is_sent_to_https_with_path_and_query(stack: Stack) -> None:
    answer = httpx.get(f"{stack.http_url.rstrip('/')}/queue?view=all", timeout=10)
    assert answer.status_code == 301
    assert answer.headers["location"] == f"{stack.url}/queue?view=all"


def test_every_answer_through_nginx_carries_each_security_header_once(stack: Stack) -> None:
    with stack.client() as client:
        for path in ("/login", "/public", "/no-such-page", "/readyz"):
            answer = client.get(path)
            headers = answer.headers
            hsts = headers.get_list("strict-transport-security")
            assert hsts == ["max-age=63072000; includeSubDomains"], (path, hsts)
            for name, value in [
                ("x-content-type-options", "nosniff"),
                ("x-frame-options", "DENY"),
                ("referrer-policy", "no-referrer"),
            ]:
                assert headers.get_list(name) == [value], (path, name, headers.get_list(name))
            assert len(headers.get_list("content-security-policy")) == 1, path
            assert headers["server"] == "nginx", "nginx must not announce its version"
            assert re.fullmatch(r"[0-9a-f]{32}", headers["x-request-id"])
        assert client.get("/readyz").json()["status"] == "ready"
        # Metrics are scraped from each process on loopback, never through the proxy.
        assert client.get("/metrics").status_code == 404


def test_an_intake_through_nginx_reaches_a_queue_stream_held_by_the_other_process(
    stack: Stack,
) -> None:
    events: list[str] = []
    stream_upstream: list[str] = []
    opened = threading.Event()
    with stack.client() as commander, stack.client() as taker:
        assert sign_in(commander, "lt.okafor").status_code == 303  # type: ignore[arg-type]
        assert sign_in(taker, "ct.alvarez").status_code == 303  # type: ignore[arg-type]

        def listen() -> None:
            with commander.stream("GET", "/queue/events", timeout=30) as response:
                assert response.status_code == 200
                assert response.headers["content-type"].startswith("text/event-stream")
                stream_upstream.append(response.headers["x-assistgate-upstream"])
                opened.set()
                for line in response.iter_lines():
                    events.append(line)
                    if "stop-listening" in line or len(events) > 500:
                        return

        listener = threading.Thread(target=listen, daemon=True)
        listener.start()
        assert opened.wait(15), "the queue's stream did not open through nginx"
        # Round robin alternates the two processes: take calls until one lands on the other.
        delivered = ""
        form = taker.get("/intake").text
        csrf = form.split('name="csrf_token" value="')[1].split('"')[0]
        for attempt in range(6):
            answer = taker.post("/intake", data={**CALL, "csrf_token": csrf})
            assert answer.status_code == 303, answer.text[:500]
            ref = str(answer.headers["location"]).rsplit("/", 1)[1]
            if answer.headers["x-assistgate-upstream"] != stream_upstream[0]:
                delivered = ref
                break
            assert attempt < 5, "every intake went to the process holding the stream"
        deadline = time.monotonic() + 10
        while not any(delivered in line for line in events) and time.monotonic() < deadline:
            time.sleep(0.05)
    assert any(delivered in line for line in events if line.startswith("data:")), (
        f"{delivered} never reached the stream held by {stream_upstream[0]}: {events[-5:]}"
    )


def test_status_reports_every_part_running(stack: Stack) -> None:
    status = stack_command(stack.folder, "status")
    assert status.returncode == 0, status.stdout + status.stderr
    for part in ("postgresql: running", "serve #1: running", "serve #2: running",
                 f"nginx: running at {stack.url}/"):  # fmt: skip
        assert part in status.stdout
