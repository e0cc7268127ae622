"""An export of 200 entries verifies offline; each way of tampering with it names the first bad seq.

The rule for which seq an `ExportError` names is in assistgate/ledger/export.py's docstring.
Line numbers are 1-based, so entry seq i sits on line i + 1 and the checkpoint on line 201.
"""

from __future__ import annotations

import json
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from assistgate.ledger import (
    EMPTY_ROOT,
    CheckpointError,
    ExportError,
    canonical_json,
    entry_leaves,
    export_lines,
    first_divergence,
    root_hash,
    verify_export,
)
from assistgate.ledger import export as export_module

from .factories import FIXED_KEY, ORIGIN, checkpoint_for, make_entries, make_entry, make_export

N = 200
PUBLIC = FIXED_KEY.public_key()
OTHER_KEY = Ed25519PrivateKey.generate()


@pytest.fixture
def lines() -> list[str]:
    return make_export(N)


def _error(lines: list[str], **kwargs: object) -> ExportError:
    with pytest.raises(ExportError) as caught:
        verify_export(lines, PUBLIC, **kwargs)  # type: ignore[arg-type]
    return caught.value


def _forged(seq: int, note: str) -> str:
    entry = make_entry(seq, data={"agency": "ICE", "step": 0, "note": note})
    return entry.to_bytes().decode() + "\n"


# --- what a good export proves -------------------------------------------------------------


def test_a_good_export_verifies_and_reports_its_size_root_and_key(lines: list[str]) -> None:
    report = verify_export(lines, PUBLIC, origin=ORIGIN)
    entries = make_entries(N)
    assert report.entries == N
    assert report.root_hex == root_hash([e.leaf() for e in entries]).hex()
    assert report.checkpoint.size == N
    assert report.key_id == "21fe31dfa154a261"


def test_an_export_verifies_from_a_file_as_bytes_or_as_text(
    lines: list[str], tmp_path: Path
) -> None:
    path = tmp_path / "ledger.jsonl"
    path.write_text("".join(lines), encoding="utf-8")
    with path.open("rb") as binary:
        assert verify_export(binary, PUBLIC).entries == N
    with path.open(encoding="utf-8", newline="") as text:
        assert verify_export(text, PUBLIC).entries == N
    assert verify_export(path.read_text(encoding="utf-8").splitlines(), PUBLIC).entries == N


def test_every_line_is_canonical_json_and_the_last_is_the_checkpoint(lines: list[str]) -> None:
    for line in lines:
        assert line.endswith("\n")
        assert canonical_json(json.loads(line)) == line[:-1].encode()
    assert list(json.loads(lines[-1])) == ["checkpoint"]


def test_an_empty_ledger_exports_and_verifies() -> None:
    lines = make_export(0)
    assert len(lines) == 1
    assert verify_export(lines, PUBLIC).root_hex == EMPTY_ROOT.hex()


def test_export_refuses_entries_out_of_order_or_a_checkpoint_of_another_size() -> None:
    entries = make_entries(5)
    with pytest.raises(ExportError, match="entry has seq 3, expected 2"):
        list(export_lines([*entries[:2], *entries[3:]], checkpoint_for(entries)))
    with pytest.raises(ExportError, match="checkpoint covers 4 entries, exported 5"):
        list(export_lines(entries, checkpoint_for(entries[:4])))


def test_verification_streams_in_bounded_memory() -> None:
    n = 20_000
    entries = make_entries(n)
    checkpoint = checkpoint_for(entries)
    del entries

    def lines() -> Iterator[str]:
        return export_lines((make_entry(seq) for seq in range(n)), checkpoint)

    tracemalloc.start()
    try:
        assert verify_export(lines(), PUBLIC).entries == n
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # The held-back leaves (4,096 x 32 bytes plus overhead) and one line at a time; a list
    # of 20,000 lines would take several MB.
    assert peak < 1_500_000


# --- tampering with entry lines --------------------------------------------------------------


def test_a_changed_character_that_breaks_the_line_names_its_seq(lines: list[str]) -> None:
    lines[57] = lines[57].replace('"step":1', '"step";1')
    error = _error(lines)
    assert (error.seq, error.line) == (57, 58)
    assert "not canonical JSON" in str(error)


def test_a_respaced_line_names_its_seq(lines: list[str]) -> None:
    lines[57] = lines[57].replace('"step":1', '"step": 1')
    error = _error(lines)
    assert (error.seq, error.line) == (57, 58)
    assert "differ from the canonical encoding" in str(error)


def test_a_changed_character_of_data_that_keeps_the_line_valid_breaks_the_root(
    lines: list[str],
) -> None:
    original = list(lines)
    lines[150] = lines[150].replace("étape 150", "étape 151")
    error = _error(lines)
    # The signed root cannot say which entry changed: nothing before is vouched for.
    assert (error.seq, error.line) == (0, 201)
    assert "an entry was altered, added or removed" in str(error)
    # With an earlier checkpoint the verifier trusts, the change is placed after it...
    trusted = checkpoint_for(make_entries(100), at="2017-10-02T16:00:00.000000Z")
    assert _error(lines, trusted=[trusted]).seq == 100
    # ...and against the ledger's own leaves, the entry itself is named.
    assert first_divergence(entry_leaves(original), entry_leaves(lines)) == 150


def test_a_removed_line_names_the_missing_seq(lines: list[str]) -> None:
    del lines[57]
    error = _error(lines)
    assert (error.seq, error.line) == (57, 58)
    assert "carries seq 58, expected 57" in str(error)


def test_a_removed_last_entry_names_its_seq(lines: list[str]) -> None:
    del lines[N - 1]
    error = _error(lines)
    assert (error.seq, error.line) == (N - 1, N)
    assert "checkpoint covers 200 entries, the export holds only 199" in str(error)


def test_a_duplicated_line_names_the_seq_of_the_copy(lines: list[str]) -> None:
    lines.insert(58, lines[57])
    error = _error(lines)
    assert (error.seq, error.line) == (58, 59)
    assert "repeats the previous line (seq 57)" in str(error)


def test_a_forged_entry_inserted_with_an_existing_seq_names_that_seq(lines: list[str]) -> None:
    lines.insert(57, _forged(57, "forged"))
    error = _error(lines)
    assert (error.seq, error.line) == (57, 59)
    assert "a second, different entry with seq 57" in str(error)


def test_a_forged_entry_inserted_with_every_later_seq_renumbered_breaks_the_root(
    lines: list[str],
) -> None:
    entries = make_entries(N)
    forged = [*entries[:57], make_entry(57, data={"forged": True}), *entries[57:]]
    renumbered = [make_entry(i, **_fields(e)) for i, e in enumerate(forged)]
    tampered = [e.to_bytes().decode() + "\n" for e in renumbered] + [lines[-1]]
    error = _error(tampered)
    assert (error.seq, error.line) == (0, 202)
    assert "an entry was altered, added or removed" in str(error)
    trusted = checkpoint_for(entries[:50], at="2017-10-02T16:00:00.000000Z")
    assert _error(tampered, trusted=[trusted]).seq == 50


def _fields(entry: object) -> dict[str, object]:
    return {k: getattr(entry, k) for k in ("at", "actor", "event", "subject", "data")}


def test_a_forged_entry_appended_after_the_signed_ones_names_its_seq(lines: list[str]) -> None:
    lines.insert(N, _forged(N, "appended"))
    error = _error(lines)
    assert (error.seq, error.line) == (N, 202)
    assert "entries 200 to 200 are not covered by the signature" in str(error)


def test_too_many_extra_entries_to_check_the_signed_prefix_are_named_from_zero(
    lines: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(export_module, "LOOKBACK", 4)
    for seq in range(N, N + 10):
        lines.insert(seq, _forged(seq, "appended"))
    error = _error(lines)
    assert error.seq == 0
    assert "too many extra entries" in str(error)


def test_two_swapped_lines_name_the_first_of_them(lines: list[str]) -> None:
    lines[57], lines[58] = lines[58], lines[57]
    error = _error(lines)
    assert (error.seq, error.line) == (57, 58)
    assert "lines were moved" in str(error)


def test_time_going_backwards_names_the_entry(lines: list[str]) -> None:
    lines[57] = make_entry(57, at="2017-10-02T14:00:00.000000Z").to_bytes().decode() + "\n"
    error = _error(lines)
    assert (error.seq, error.line) == (57, 58)
    assert "time goes backwards" in str(error)


def test_an_empty_line_names_its_seq(lines: list[str]) -> None:
    lines.insert(57, "\n")
    assert _error(lines).seq == 57


def test_a_line_converted_to_crlf_says_so(lines: list[str]) -> None:
    lines[0] = lines[0].replace("\n", "\r\n")
    error = _error(lines)
    assert (error.seq, error.line) == (0, 1)
    assert "CRLF" in str(error)


def test_a_line_that_is_not_utf8_names_its_seq(lines: list[str]) -> None:
    raw = [line.encode() for line in lines]
    raw[57] = raw[57].replace("é".encode(), b"\xe9")
    with pytest.raises(ExportError) as caught:
        verify_export(raw, PUBLIC)
    assert (caught.value.seq, caught.value.line) == (57, 58)


# --- tampering with the checkpoint ----------------------------------------------------------


def test_a_removed_checkpoint_names_the_seq_after_the_last_entry(lines: list[str]) -> None:
    del lines[-1]
    error = _error(lines)
    assert (error.seq, error.line) == (N, N + 1)
    assert "no checkpoint" in str(error)


def test_an_empty_export_has_no_checkpoint() -> None:
    error = _error([])
    assert (error.seq, error.line) == (0, 1)


def test_a_checkpoint_from_a_different_key_is_refused(lines: list[str]) -> None:
    lines[-1] = make_export(N, OTHER_KEY)[-1]
    error = _error(lines)
    assert (error.seq, error.line) == (N, N + 1)
    assert "expected key 21fe31dfa154a261" in str(error)


def test_a_checkpoint_signed_by_another_key_under_ours_is_refused(lines: list[str]) -> None:
    obj = json.loads(make_export(N, OTHER_KEY)[-1])
    obj["checkpoint"]["key_id"] = "21fe31dfa154a261"
    lines[-1] = canonical_json(obj).decode() + "\n"
    error = _error(lines)
    assert error.seq == N
    assert "signature does not verify" in str(error)


def test_a_checkpoint_with_a_changed_size_is_refused(lines: list[str]) -> None:
    obj = json.loads(lines[-1])
    obj["checkpoint"]["size"] = N - 1
    lines[-1] = canonical_json(obj).decode() + "\n"
    assert "signature does not verify" in str(_error(lines))


def test_a_checkpoint_that_is_not_last_names_the_seq_where_it_stands(lines: list[str]) -> None:
    lines.insert(100, lines.pop())
    error = _error(lines)
    assert (error.seq, error.line) == (100, 102)
    assert "follows the checkpoint on line 101" in str(error)


def test_a_trailing_garbage_line_is_refused(lines: list[str]) -> None:
    lines.append("garbage\n")
    error = _error(lines)
    assert (error.seq, error.line) == (N, N + 2)
    assert "the checkpoint must be the last line" in str(error)


def test_a_second_checkpoint_is_refused(lines: list[str]) -> None:
    lines.append(lines[-1])
    assert _error(lines).seq == N


def test_a_checkpoint_line_with_extra_fields_is_refused(lines: list[str]) -> None:
    obj = json.loads(lines[-1])
    obj["note"] = "x"
    lines[-1] = canonical_json(obj).decode() + "\n"
    assert "exactly" in str(_error(lines))


def test_a_checkpoint_dated_before_the_last_entry_is_refused() -> None:
    entries = make_entries(N)
    lines = list(export_lines(entries, checkpoint_for(entries, at="2017-10-02T14:03:07.123456Z")))
    error = _error(lines)
    assert error.seq == N
    assert "before the last entry's" in str(error)


def test_an_export_of_another_ledger_is_refused(lines: list[str]) -> None:
    error = _error(lines, origin="assistgate.example/somewhere-else")
    assert error.seq == N
    assert "expected 'assistgate.example/somewhere-else'" in str(error)


# --- trusted earlier checkpoints ------------------------------------------------------------


def test_an_export_that_extends_trusted_checkpoints_verifies(lines: list[str]) -> None:
    entries = make_entries(N)
    trusted = [checkpoint_for(entries[:size]) for size in (0, 1, 100, 199, 200)]
    assert verify_export(lines, PUBLIC, trusted=trusted).entries == N


def test_an_export_shorter_than_a_trusted_checkpoint_is_a_rollback(lines: list[str]) -> None:
    longer = make_entries(N + 10)
    error = _error(lines, trusted=[checkpoint_for(longer)])
    assert error.seq == N
    assert "rolled back" in str(error)


def test_an_entry_altered_before_a_trusted_checkpoint_is_placed_before_it(
    lines: list[str],
) -> None:
    entries = make_entries(N)
    lines[30] = lines[30].replace("étape 30", "étape 31")
    trusted = [checkpoint_for(entries[:size]) for size in (20, 50)]
    error = _error(lines, trusted=trusted)
    assert error.seq == 20
    assert "an entry before seq 50 was altered" in str(error)


def test_trusted_checkpoints_that_disagree_reveal_a_fork(lines: list[str]) -> None:
    entries = make_entries(N)
    forked = [*entries[:99], make_entry(99, data={"forked": True})]
    with pytest.raises(CheckpointError, match="forked"):
        verify_export(
            lines, PUBLIC, trusted=[checkpoint_for(entries[:100]), checkpoint_for(forked)]
        )


def test_a_trusted_checkpoint_with_a_bad_signature_is_refused(lines: list[str]) -> None:
    with pytest.raises(CheckpointError):
        verify_export(lines, PUBLIC, trusted=[checkpoint_for(make_entries(5), OTHER_KEY)])


# --- first_divergence -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expected", "actual", "result"),
    [
        ([b"a", b"b", b"c"], [b"a", b"b", b"c"], None),
        ([b"a", b"b", b"c"], [b"a", b"x", b"c"], 1),
        ([b"a", b"b", b"c"], [b"a", b"b"], 2),
        ([b"a", b"b"], [b"a", b"b", b"c"], 2),
        ([], [], None),
        ([], [b"a"], 0),
    ],
)
def test_first_divergence_names_the_first_differing_or_missing_leaf(
    expected: list[bytes], actual: list[bytes], result: int | None
) -> None:
    assert first_divergence(expected, actual) == result
