"""The watched folder: a half-written file is not taken until complete, and a watcher stopped
at any moment (SIGKILL, a real child process) loses nothing and takes nothing twice."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.cli.conftest import Cli
from tests.recordings.audio import speak

CALL = {"call_started_at": "2018-03-06T09:47:00-05:00", "parties": ["4101", "+1 202 555 0147"],
        "call_ended_at": "2018-03-06T09:50:12-05:00"}  # fmt: skip


@contextmanager
def watcher(cli: Cli, folder: Path, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """Run `assistgate recordings watch` in a child process; kill it (SIGKILL) at the end."""
    exe = Path(sys.executable).with_name("assistgate")
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTGATE_")}
    env.update({k: v for k, v in cli.env.items() if v is not None})
    with log.open("ab") as out:
        child = subprocess.Popen([str(exe), "recordings", "watch", str(folder), "--as", "cad",
                                  "--interval", "0.1", "--settle", "0.6"],
                                 stdout=out, stderr=subprocess.STDOUT, env=env)  # fmt: skip
    try:
        yield child
    finally:
        if child.poll() is None:
            child.send_signal(signal.SIGKILL)
        child.wait(timeout=10)


def wait_for(check: Callable[[], bool], seconds: float = 30, poll: float = 0.05) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(poll)


def sidecar(folder: Path, name: str, call_id: str, ref: str) -> None:
    """Write the sidecar last, under a temporary name renamed into place, as recorders do."""
    temp = folder / f".{name}.json.tmp"
    temp.write_text(json.dumps({**CALL, "recorder_call_id": call_id, "request_ref": ref}))
    temp.rename(folder / f"{name}.json")


def test_a_half_written_file_waits_across_a_killed_watcher_and_is_taken_once_whole(
    staffed: Cli, tmp_path: Path
) -> None:
    ref = staffed.create()
    staffed.ok("request", "claim", ref, "--as", "lt.okafor")
    folder, log = tmp_path / "export", tmp_path / "watch.log"
    folder.mkdir()
    whole = speak(tmp_path / "whole.wav", "The agent asked for a unit at the Elm Street address.")
    data = whole.read_bytes()
    target = folder / "NX-500.wav"
    with watcher(staffed, folder, log):
        with target.open("wb") as out:  # the recorder is still writing: no sidecar yet
            out.write(data[: len(data) // 3])
        time.sleep(1.5)  # more than two settling periods
        assert target.exists()
        assert staffed.sql("SELECT count(*) FROM recordings")[0][0] == 0
    # Stopped mid-copy (SIGKILL). The recorder goes on writing while no watcher runs.
    with target.open("ab") as out:
        out.write(data[len(data) // 3 : 2 * len(data) // 3])
    with watcher(staffed, folder, log):
        time.sleep(1.0)
        assert staffed.sql("SELECT count(*) FROM recordings")[0][0] == 0
        with target.open("ab") as out:
            out.write(data[2 * len(data) // 3 :])
        sidecar(folder, target.name, "NX-500", ref)
        wait_for(lambda: (folder / "ingested" / "NX-500.wav").exists())
    rows = staffed.sql("SELECT sha256, size FROM recordings")
    assert rows == [(hashlib.sha256(data).hexdigest(), len(data))]
    assert not (folder / "refused").exists()
    assert (folder / "ingested" / "NX-500.wav.json").exists()


def test_a_watcher_killed_in_the_middle_of_a_batch_takes_every_file_exactly_once(
    staffed: Cli, tmp_path: Path
) -> None:
    ref = staffed.create()
    staffed.ok("request", "claim", ref, "--as", "lt.okafor")
    folder, log = tmp_path / "export", tmp_path / "watch.log"
    folder.mkdir()
    count = 12
    for n in range(count):
        speak(folder / f"NX-{n}.wav", f"Recorded call number {n} for the command line.")
        sidecar(folder, f"NX-{n}.wav", f"NX-{n}", ref)
    (folder / "notes.txt").write_text("not a recording")
    (folder / "notes.txt.json").write_text(json.dumps({**CALL, "recorder_call_id": "X"}))
    ingested = folder / "ingested"

    def taken() -> int:
        return len(list(ingested.glob("NX-*.wav"))) if ingested.exists() else 0

    with watcher(staffed, folder, log) as child:
        # Poll often: on a busy machine a slow poll can miss the whole batch going through.
        wait_for(lambda: taken() >= 1, poll=0.002)
        child.send_signal(signal.SIGKILL)  # in the middle of the batch
    assert taken() < count, "the watcher finished before it was stopped; the test proves nothing"
    with watcher(staffed, folder, log):
        wait_for(lambda: taken() == count and (folder / "refused" / "notes.txt").exists())
    assert staffed.sql("SELECT count(*) FROM recordings")[0][0] == count
    attached = staffed.sql("SELECT count(*) FROM ledger_entries WHERE subject = :ref AND "
                           "event = 'request:recording_attached'", ref=ref)  # fmt: skip
    assert attached[0][0] == count
    reason = (folder / "refused" / "notes.txt.reason.txt").read_text()
    assert "not a recognised audio file" in reason
    assert sorted(p.name for p in folder.iterdir()) == ["ingested", "refused"]
