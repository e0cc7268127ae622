"""The operator's commands: ingest recorder files, verify the sealed store, the review queue,
blocks, holds and retention, as `assistgate recordings ...` run from a shell."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from assistgate.settings import Settings, SettingsError
from tests.cli.conftest import Cli

CALL = {"recorder_call_id": "NX-77812", "call_started_at": "2018-03-06T09:47:00-05:00",
        "call_ended_at": "2018-03-06T09:50:12-05:00",
        "parties": ["4101", "+1 202 555 0147"]}  # fmt: skip


def held(cli: Cli) -> str:
    ref = cli.create()
    cli.ok("request", "claim", ref, "--as", "lt.okafor")
    return ref


def export(folder: Path, source: Path, name: str, **sidecar: object) -> Path:
    """Put a recording and its sidecar in a recorder's export folder, as the recorder would."""
    folder.mkdir(exist_ok=True)
    audio = folder / name
    shutil.copyfile(source, audio)
    (folder / f"{name}.json").write_text(json.dumps({**CALL, **sidecar}), encoding="utf-8")
    return audio


def stored(cli: Cli, sha: str) -> Path:
    return cli.data_dir / "recordings" / sha[:2] / f"{sha}.agrec"


def sha_of(cli: Cli, ref: str) -> str:
    rows = cli.sql("SELECT r.sha256 FROM recordings r JOIN recording_attachments a ON "
                   "a.recording_id = r.id JOIN requests q ON q.id = a.request_id "
                   "WHERE q.ref = :ref ORDER BY a.id", ref=ref)  # fmt: skip
    return str(rows[-1][0])


def test_recorder_files_are_taken_matched_and_refused_one_by_one(
    staffed: Cli, audio: dict[str, Path]
) -> None:
    ref = held(staffed)
    folder = staffed.work / "export"
    good = export(folder, audio["ogg-opus"], "NX-77812.opus")
    broken = folder / "NX-77813.wav"
    broken.write_bytes(audio["wav"].read_bytes()[:5000])
    result = staffed.run("recordings", "ingest", str(good), str(broken), "--as", "cad")
    assert result.exit_code == 2
    assert f"attached to {ref}" in result.stdout
    assert "NX-77813.wav: refused: " in result.stderr
    assert "cut short" in result.stderr
    listing = staffed.ok("recordings", "list", ref)
    assert "ogg" in listing
    assert "opus" in listing
    assert "stored" in listing
    timeline = staffed.ok("request", "show", ref)
    assert "request:recording_attached" in timeline
    again = staffed.ok("recordings", "ingest", str(good), "--as", "cad")
    assert "already stored" in again
    assert staffed.sql("SELECT count(*) FROM recordings")[0][0] == 1


def test_verify_names_each_altered_or_missing_recording(
    staffed: Cli, audio: dict[str, Path]
) -> None:
    ref = held(staffed)
    for kind in ("wav", "mp3", "m4a"):
        staffed.ok("recordings", "ingest", str(audio[kind]), "--as", "lt.okafor", "--ref", ref)
    assert "3 recordings decrypt and match" in staffed.ok("recordings", "verify")
    shas = [r[0] for r in staffed.sql("SELECT sha256 FROM recordings ORDER BY id")]
    flipped, removed, intact = shas
    data = bytearray(stored(staffed, flipped).read_bytes())
    data[len(data) // 2] ^= 0x01
    stored(staffed, flipped).write_bytes(bytes(data))
    stored(staffed, removed).unlink()
    result = staffed.run("recordings", "verify")
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert len(lines) == 2
    assert f"recording {flipped}: altered: " in lines[0]
    assert "fails authentication" in lines[0]
    assert f"recording {removed}: missing: " in lines[1]
    assert intact not in result.stderr


def test_an_unmatched_file_is_queued_then_assigned_by_a_commander(
    staffed: Cli, audio: dict[str, Path]
) -> None:
    first, second = held(staffed), held(staffed)
    path = export(staffed.work / "export", audio["flac"], "NX-1.flac")
    out = staffed.ok("recordings", "ingest", str(path), "--as", "cad")
    assert "in the review queue" in out
    assert f"held 2 open requests when the call started: {first}, {second}" in out
    queue = staffed.ok("recordings", "review")
    assert "NX-77812" in queue
    assert f"{first},{second}" in queue
    review_id = queue.splitlines()[1].split()[0]
    refused = staffed.refused(1, "recordings", "assign", review_id, second, "--as", "ct.alvarez")
    assert "may not assign" in refused
    staffed.ok("recordings", "assign", review_id, second, "--as", "lt.okafor")
    assert staffed.ok("recordings", "review").splitlines()[1:] == []
    assert "request:recording_attached" in staffed.ok("request", "show", second)


def test_an_administrator_blocks_and_unblocks_playback_with_a_reason(
    staffed: Cli, audio: dict[str, Path]
) -> None:
    ref = held(staffed)
    staffed.ok("recordings", "ingest", str(audio["wav"]), "--as", "lt.okafor", "--ref", ref)
    sha = sha_of(staffed, ref)
    refused = staffed.refused(1, "recordings", "block", sha[:12], "--as", "lt.okafor",
                              "--reason", "Court order 18-CI-0412")  # fmt: skip
    assert "may not block" in refused
    staffed.ok("recordings", "block", sha[:12], "--as", "admin.kim", "--reason",
               "Court order 18-CI-0412 (sealed)")  # fmt: skip
    assert "blocked" in staffed.ok("recordings", "list", ref)
    staffed.ok("recordings", "unblock", sha[:12], "--as", "admin.kim", "--reason",
               "Order lifted on appeal")  # fmt: skip
    timeline = staffed.ok("request", "show", ref, "--json")
    events = [s["event"] for s in json.loads(timeline)["timeline"]]
    assert events[-2:] == ["recording:playback_blocked", "recording:playback_unblocked"]


def test_purge_deletes_audio_past_retention_but_not_on_hold_and_keeps_the_hash(
    staffed: Cli, audio: dict[str, Path]
) -> None:
    staffed.env["ASSISTGATE_RECORDING_RETENTION_DAYS"] = "30"
    ref = held(staffed)
    folder = staffed.work / "export"
    for n, kind in enumerate(("wav", "mp3")):
        path = export(folder, audio[kind], f"call-{n}.{kind}", request_ref=ref,
                      recorder_call_id=f"NX-{n}")  # fmt: skip
        staffed.ok("recordings", "ingest", str(path), "--as", "cad")
    kept, let_go = [r[0] for r in staffed.sql("SELECT sha256 FROM recordings ORDER BY id")]
    staffed.ok("recordings", "hold", kept[:12], "--as", "admin.kim", "--reason",
               "Litigation hold, 18-CI-0412")  # fmt: skip
    assert "would delete the audio of 1 recordings" in staffed.ok(
        "recordings", "purge", "--as", "admin.kim", "--dry-run")  # fmt: skip
    assert stored(staffed, let_go).exists()
    out = staffed.ok("recordings", "purge", "--as", "admin.kim")
    assert f"deleted: {let_go[:16]}" in out
    assert not stored(staffed, let_go).exists()
    assert stored(staffed, kept).exists()
    assert staffed.sql("SELECT count(*) FROM recordings")[0][0] == 2
    assert "1 purged under retention" in staffed.ok("recordings", "verify")
    events = [s["event"] for s in json.loads(staffed.ok("request", "show", ref, "--json"))
              ["timeline"]]  # fmt: skip
    assert events.count("recording:audio_purged") == 1
    assert "purged" in staffed.ok("recordings", "list", ref)


def test_a_bare_hash_is_not_a_recording(staffed: Cli, audio: dict[str, Path]) -> None:
    ref = held(staffed)
    refused = staffed.refused(2, "request", "recording", ref, "--as", "lt.okafor",
                              "--sha256", "ab" * 32)  # fmt: skip
    assert "take the file in with --file PATH" in refused
    staffed.ok("request", "recording", ref, "--as", "lt.okafor", "--file", str(audio["mp3"]))
    other = held(staffed)
    sha = sha_of(staffed, ref)
    staffed.ok("request", "recording", other, "--as", "lt.okafor", "--sha256", sha)
    assert sha_of(staffed, other) == sha
    assert staffed.sql("SELECT count(*) FROM recordings")[0][0] == 1


def test_a_profile_with_a_longer_retention_keeps_every_recording_that_long(
    staffed: Cli, audio: dict[str, Path]
) -> None:
    staffed.env["ASSISTGATE_RECORDING_RETENTION_DAYS"] = "30"
    staffed.env["ASSISTGATE_RECORDING_RETENTION_BY_PROFILE"] = "louisville-ordinance-2017=3653"
    ref = held(staffed)
    staffed.ok("recordings", "ingest", str(audio["wav"]), "--as", "lt.okafor", "--ref", ref)
    assert "would delete the audio of 0 recordings" in staffed.ok(
        "recordings", "purge", "--as", "admin.kim", "--dry-run")  # fmt: skip


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("oregon-sanctuary-law=10", "is not one of this deployment's profiles"),
        ("louisville-lmpd-2017=ten", "expected a whole number of days"),
    ],
)
def test_retention_settings_name_what_is_wrong(value: str, says: str) -> None:
    name = "ASSISTGATE_RECORDING_RETENTION_BY_PROFILE"
    with pytest.raises(SettingsError, match=f"{name}: .*{says}"):
        Settings.from_env({name: value})


def test_the_longest_retention_of_the_profiles_followed_applies() -> None:
    both = "louisville-lmpd-2017=3000, louisville-ordinance-2017=4000"
    assert Settings.from_env({"ASSISTGATE_RECORDING_RETENTION_BY_PROFILE": both}
                             ).recording_retention.days == 4000  # fmt: skip
    assert Settings.from_env({}).recording_retention.days == 2557
