"""Readers: every format, encoding, delimiter, BOM and compression; clear errors for bad files."""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import duckdb
import pytest

from assistgate.audit.errors import MissingColumnError, ReadError
from assistgate.audit.presets import PRESETS
from assistgate.audit.readers import FileScan, expand_inputs, read_candidates
from assistgate.audit.rules import default_rules
from tests.audit.factories import CALLS, INTERNAL_HEADER, write_csv, write_jsonl, write_parquet

PLAN = PRESETS["internal"].plan
# P1, P2 (bare "ICE ON RDWY" passes the filter; the rules drop it), P4 and P5 are candidates.
CANDIDATE_IDS = ["P1", "P2", "P4", "P5"]


def _read(path: Path, encoding: str = "auto") -> FileScan:
    rs = default_rules()
    return read_candidates(
        path,
        PLAN,
        text_filter=rs.prefilter_text,
        type_filter=rs.prefilter_call_type,
        encoding=encoding,
    )


def _ids(scan: FileScan) -> list[str]:
    return [c.id for c in scan.candidates]


@pytest.mark.parametrize(
    ("delimiter", "name"), [(",", "comma"), (";", "semicolon"), ("\t", "tab"), ("|", "pipe")]
)
def test_a_csv_in_any_of_the_four_delimiters_is_sniffed_and_stated(
    tmp_path: Path, delimiter: str, name: str
) -> None:
    scan = _read(write_csv(tmp_path / "calls.csv", delimiter=delimiter))
    assert scan.rows == len(CALLS)
    assert _ids(scan) == CANDIDATE_IDS
    assert scan.sniffed.describe() == f"CSV, UTF-8, {name}-delimited"


def test_a_utf8_byte_order_mark_is_read_and_stated(tmp_path: Path) -> None:
    scan = _read(write_csv(tmp_path / "calls.csv", bom=True))
    assert _ids(scan) == CANDIDATE_IDS
    assert scan.sniffed.describe() == "CSV, UTF-8 with BOM, comma-delimited"
    assert scan.used["id"] == ("incident_number",)


def test_a_windows_1252_file_is_detected_stated_and_quoted_correctly(tmp_path: Path) -> None:
    rows = [
        *CALLS,
        (
            "P6",
            "2017-03-01 11:00:00",
            "OTHER",
            "ICE AGT REQ UNIT \u2013 CAF\u00c9 \u201cLA ROSA\u201d",
        ),
    ]
    path = write_csv(tmp_path / "calls.csv", rows, encoding="cp1252")
    assert b"\x93LA ROSA\x94" in path.read_bytes()
    scan = _read(path)
    assert scan.sniffed.describe() == "CSV, Windows-1252, comma-delimited"
    assert scan.candidates[-1].text == "ICE AGT REQ UNIT \u2013 CAF\u00c9 \u201cLA ROSA\u201d"


def test_a_gzip_csv_is_read_streaming_and_stated(tmp_path: Path) -> None:
    scan = _read(write_csv(tmp_path / "calls.csv.gz", compress=True, delimiter=";"))
    assert _ids(scan) == CANDIDATE_IDS
    assert scan.sniffed.describe() == "gzip CSV, UTF-8, semicolon-delimited"


def test_a_gzip_windows_1252_csv_is_read(tmp_path: Path) -> None:
    rows = [("P9", "2017", "OTHER", "HSI REQ ASST \u2013 CAF\u00c9")]
    scan = _read(write_csv(tmp_path / "c.csv.gz", rows, encoding="cp1252", compress=True))
    assert scan.sniffed.describe() == "gzip CSV, Windows-1252, comma-delimited"
    assert scan.candidates[0].text == "HSI REQ ASST \u2013 CAF\u00c9"


def test_a_parquet_file_is_read_and_its_timestamps_become_text(tmp_path: Path) -> None:
    scan = _read(write_parquet(tmp_path / "calls.parquet"))
    assert _ids(scan) == CANDIDATE_IDS
    assert scan.candidates[0].time == "2017-03-01 10:00:00"
    assert scan.sniffed.describe() == "Parquet"


def test_a_parquet_file_with_number_ids_is_read(tmp_path: Path) -> None:
    path = tmp_path / "n.parquet"
    con = duckdb.connect()
    con.execute(
        f"COPY (SELECT 17 AS incident_number, 'ICE AGT REQ UNIT' AS remarks) TO '{path}' "
        "(FORMAT parquet)"
    )
    con.close()
    scan = _read(path)
    assert [(c.id, c.time, c.call_type) for c in scan.candidates] == [("17", "", "")]


@pytest.mark.parametrize("compress", [False, True])
def test_json_lines_plain_or_gzip_are_read(tmp_path: Path, compress: bool) -> None:
    name = "calls.jsonl.gz" if compress else "calls.jsonl"
    scan = _read(write_jsonl(tmp_path / name, compress=compress))
    assert _ids(scan) == CANDIDATE_IDS
    assert scan.sniffed.describe() == (
        "gzip JSON Lines, UTF-8" if compress else "JSON Lines, UTF-8"
    )


def test_candidates_come_back_in_file_order_with_their_row_numbers(tmp_path: Path) -> None:
    rows = [(f"P{i}", "", "", "ICE AGT REQ UNIT" if i % 7 == 0 else "ALARM") for i in range(5000)]
    scan = _read(write_csv(tmp_path / "many.csv", rows))
    assert scan.rows == 5000
    assert [c.row for c in scan.candidates] == [i + 1 for i in range(0, 5000, 7)]


def test_a_quoted_remark_with_commas_and_a_line_break_is_one_field(tmp_path: Path) -> None:
    rows = [("P1", "", "", 'ICE AGT, ON SCENE\nREQ UNIT, "CODE 3"')]
    scan = _read(write_csv(tmp_path / "q.csv", rows))
    assert scan.candidates[0].text == 'ICE AGT, ON SCENE\nREQ UNIT, "CODE 3"'


def test_column_names_match_ignoring_case(tmp_path: Path) -> None:
    header = [h.upper() for h in INTERNAL_HEADER]
    scan = _read(write_csv(tmp_path / "upper.csv", header=header))
    assert scan.used["text"] == ("REMARKS",)


def test_a_missing_column_is_an_error_that_lists_the_columns_the_file_has(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "nocol.csv", [("1", "x")], header=("event", "notes"))
    with pytest.raises(MissingColumnError) as caught:
        _read(path)
    message = str(caught.value)
    assert message.startswith(str(path))
    assert "no id column 'incident_number' or 'event_number' or 'cad_number'" in message
    assert "the file's columns are: event, notes" in message


def test_an_empty_file_is_an_error_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    with pytest.raises(ReadError, match=r"empty.csv: the file is empty"):
        _read(path)


def test_a_gzip_file_holding_nothing_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "empty.csv.gz"
    path.write_bytes(gzip.compress(b""))
    with pytest.raises(ReadError, match="holds no data once decompressed"):
        _read(path)


def test_a_header_only_file_reads_zero_rows(tmp_path: Path) -> None:
    scan = _read(write_csv(tmp_path / "header.csv", rows=[]))
    assert (scan.rows, scan.candidates) == (0, ())


def test_a_file_cut_in_the_middle_of_a_row_names_the_line(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "cut.csv")
    text = path.read_text(encoding="utf-8")
    path.write_text(text[: text.index("P4") + 12], encoding="utf-8")
    with pytest.raises(ReadError) as caught:
        _read(path)
    assert caught.value.line == 5
    assert str(caught.value) == f"{path}, line 5: expected 4 fields, found 2 (a truncated file?)"


def test_a_file_cut_inside_a_quoted_remark_names_the_line(tmp_path: Path) -> None:
    rows = [*CALLS[:2], ("P3", "2017", "X", "ICE AGT, REQ UNIT")]
    path = write_csv(tmp_path / "cutq.csv", rows)
    data = path.read_bytes()
    path.write_bytes(data[: data.rindex(b"REQ UNIT")])
    with pytest.raises(ReadError, match=r"cutq.csv, line 4: a quoted value is never closed"):
        _read(path)


def test_a_truncated_gzip_file_is_an_error_naming_the_file(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "t.csv.gz", compress=True)
    path.write_bytes(path.read_bytes()[:40])
    with pytest.raises(ReadError, match=r"t.csv.gz: the gzip stream ends early"):
        _read(path)


def test_a_truncated_parquet_file_is_an_error_naming_the_file(tmp_path: Path) -> None:
    path = write_parquet(tmp_path / "t.parquet")
    path.write_bytes(path.read_bytes()[:-30])
    with pytest.raises(ReadError, match=r"t.parquet: not a readable Parquet file"):
        _read(path)


def test_a_malformed_json_line_is_named(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "bad.jsonl")
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[2] = lines[2][:-5]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(ReadError, match=r"bad.jsonl, line 3: not valid JSON Lines"):
        _read(path)


def test_bytes_that_are_neither_utf8_nor_windows_1252_name_the_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_bytes(b"incident_number,remarks\nP1,ok\nP2,bad \x81 byte\n")
    with pytest.raises(ReadError) as caught:
        _read(path)
    assert str(caught.value) == (
        f"{path}, line 3: byte 0x81 cannot be read as UTF-8 nor Windows-1252"
    )


def test_a_utf8_file_read_as_utf8_refuses_windows_1252_bytes_later_on(tmp_path: Path) -> None:
    path = tmp_path / "late.csv"
    path.write_bytes(b"incident_number,remarks\nP1,ICE AGT REQ\nP2,caf\xe9\n")
    with pytest.raises(ReadError, match="line 3: byte 0xe9 cannot be read as UTF-8"):
        _read(path, encoding="utf-8")


def test_binary_data_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "image.csv"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    with pytest.raises(ReadError, match=r"image.csv, line 3: binary data, not text"):
        _read(path)


def test_utf16_is_refused_with_advice(tmp_path: Path) -> None:
    path = tmp_path / "u16.csv"
    path.write_bytes("incident_number,remarks\nP1,x\n".encode("utf-16"))
    with pytest.raises(ReadError, match="UTF-16; save it as UTF-8"):
        _read(path)


def test_a_file_with_no_recognisable_delimiter_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "one.csv"
    path.write_text("remarks\nICE AGT REQ\n", encoding="utf-8")
    with pytest.raises(ReadError, match="line 1: cannot tell the delimiter"):
        _read(path)


def test_many_files_and_globs_expand_in_order_each_file_once(tmp_path: Path) -> None:
    for name in ("b.csv", "a.csv", "c.parquet"):
        (tmp_path / name).write_text("x", encoding="utf-8")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "d.csv").write_text("x", encoding="utf-8")
    files = expand_inputs(
        [str(tmp_path / "c.parquet"), str(tmp_path / "*.csv"), str(tmp_path / "a.csv")]
    )
    assert [f.name for f in files] == ["c.parquet", "a.csv", "b.csv"]
    deep = expand_inputs([str(tmp_path / "**" / "*.csv")])
    assert sorted(f.name for f in deep) == ["a.csv", "b.csv", "d.csv"]


def test_a_glob_that_matches_nothing_or_a_missing_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ReadError, match=r"\*.csv: no file matches this pattern"):
        expand_inputs([str(tmp_path / "*.csv")])
    with pytest.raises(ReadError, match=r"nope\.csv: no such file"):
        expand_inputs([str(tmp_path / "nope.csv")])
    with pytest.raises(ReadError, match="is a directory"):
        expand_inputs([str(tmp_path)])


@pytest.mark.skipif(os.geteuid() == 0, reason="root can read any file")
def test_an_unreadable_file_is_an_error_naming_it(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "locked.csv")
    path.chmod(0)
    with pytest.raises(ReadError, match=r"locked\.csv: cannot open"):
        _read(path)


def test_the_pre_filter_runs_in_duckdb_and_keeps_only_matching_rows(tmp_path: Path) -> None:
    rows = [(f"P{i}", "", "ALARM", "POLICE NOTICE, OFFICE SERVICE") for i in range(300)]
    rows[150] = ("P150", "", "ALIEN", "")
    scan = _read(write_csv(tmp_path / "f.csv", rows))
    assert [(c.id, c.call_type) for c in scan.candidates] == [("P150", "ALIEN")]


def test_progress_is_reported_from_zero_to_one_while_duckdb_reads(tmp_path: Path) -> None:
    rows = [(f"P{i}", "", "", "ICE AGT REQ UNIT" if i % 50 == 0 else "ALARM") for i in range(20000)]
    seen: list[float] = []
    rs = default_rules()
    scan = read_candidates(
        write_csv(tmp_path / "p.csv", rows),
        PLAN,
        text_filter=rs.prefilter_text,
        type_filter=rs.prefilter_call_type,
        progress=seen.append,
    )
    assert len(scan.candidates) == 400
    assert seen[-1] == 1.0
    assert all(0.0 <= v <= 1.0 for v in seen)
