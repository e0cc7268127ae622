"""`assistgate audit scan / explain / evaluate`, invoked as a user would."""

from __future__ import annotations

import csv
import io
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from assistgate.cli import audit as audit_cli
from assistgate.cli.audit import audit
from tests.audit.factories import write_csv

DATA = Path(__file__).with_name("data")
CORPUS = DATA / "dispatch_corpus.csv.gz"
LABELS = DATA / "dispatch_labels.csv"
HELDOUT = DATA / "heldout.csv"


def _run(*args: str) -> Result:
    return CliRunner().invoke(audit, list(args))


def _flagged(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def _rate(output: str, name: str) -> float:
    line = next(line for line in output.splitlines() if line.startswith("precision"))
    words = line.split()
    return float(words[words.index(name) + 1])


@pytest.fixture(scope="module")
def corpus_flagged(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Result]:
    out = tmp_path_factory.mktemp("scan") / "flagged.csv"
    result = _run("scan", str(CORPUS), "--preset", "internal", "--out", str(out))
    return out, result


def test_scanning_the_corpus_then_evaluating_it_reaches_097_precision_and_recall(
    corpus_flagged: tuple[Path, Result],
) -> None:
    out, scanned = corpus_flagged
    assert scanned.exit_code == 0, scanned.output
    result = _run("evaluate", "--labels", str(LABELS), str(out), "--fail-under", "0.97")
    assert result.exit_code == 0, result.output
    assert _rate(result.output, "precision") >= 0.97
    assert _rate(result.output, "recall") >= 0.97
    for count in ("TP ", "FP ", "FN "):
        assert count in result.output


def test_the_scan_writes_one_row_per_agency_request_with_quoted_evidence(
    corpus_flagged: tuple[Path, Result],
) -> None:
    out, _ = corpus_flagged
    rows = _flagged(out)
    # The six columns, then the preset's context: the corpus has no address, so it is empty.
    assert list(rows[0]) == ["id", "time", "score", "category", "evidence", "rules", "location"]
    assert {r["location"] for r in rows} == {""}
    assert {r["category"] for r in rows} == {"agency_request"}
    assert all(r["evidence"] and r["rules"] and 0 < float(r["score"]) <= 1 for r in rows)
    assert [r["id"] for r in rows] == sorted(r["id"] for r in rows)  # input order


def test_the_scan_summary_goes_to_standard_error(corpus_flagged: tuple[Path, Result]) -> None:
    _, result = corpus_flagged
    assert result.stdout == ""
    summary = result.stderr
    assert "read 24,000 rows from 1 file in" in summary
    assert "dispatch_corpus.csv.gz: gzip CSV, UTF-8, comma-delimited; 24,000 rows" in summary
    assert "pre-filter kept" in summary
    assert "(dispatch 2026-11)" in summary
    assert "flagged " in summary
    assert "agency_request " in summary
    assert "(agency_request only; --all-categories adds the rest)" in summary
    assert "could not see" not in summary


def test_all_categories_also_writes_notifications_and_public_mentions(tmp_path: Path) -> None:
    out = tmp_path / "all.csv"
    result = _run("scan", str(HELDOUT), "--id-column", "id", "--text-column", "text",
                  "--type-column", "call_type", "--all-categories", "--out", str(out))  # fmt: skip
    assert result.exit_code == 0, result.output
    assert {r["category"] for r in _flagged(out)} == {
        "agency_request",
        "agency_notification",
        "public_mentions_immigration",
    }
    assert "could not see: no time column" in result.stderr


def test_the_held_out_set_is_measured_and_stays_above_090(tmp_path: Path) -> None:
    out = tmp_path / "heldout.csv"
    _run("scan", str(HELDOUT), "--id-column", "id", "--text-column", "text",
         "--type-column", "call_type", "--out", str(out))  # fmt: skip
    result = _run("evaluate", "--labels", str(HELDOUT), str(out))
    assert result.exit_code == 0, result.output
    assert _rate(result.output, "precision") >= 0.9
    assert _rate(result.output, "recall") >= 0.9


def test_several_files_and_a_glob_are_scanned_in_one_run(tmp_path: Path) -> None:
    write_csv(tmp_path / "a.csv")
    write_csv(tmp_path / "b.csv.gz", compress=True, delimiter="|")
    out = tmp_path / "out" / "flagged.csv"
    out.parent.mkdir()
    result = _run("scan", str(tmp_path / "*.csv*"), "--preset", "internal", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert [r["id"] for r in _flagged(out)] == ["P1", "P5", "P1", "P5"]
    assert "read 10 rows from 2 files" in result.stderr


def test_a_failing_scan_leaves_no_output_file_and_no_temporary_file(tmp_path: Path) -> None:
    good = write_csv(tmp_path / "a.csv")
    bad = write_csv(tmp_path / "b.csv.gz", compress=True)
    bad.write_bytes(bad.read_bytes()[:40])
    out = tmp_path / "flagged.csv"
    result = _run("scan", str(good), str(bad), "--preset", "internal", "--out", str(out))
    assert result.exit_code == 2
    assert result.stderr.startswith("assistgate: ")
    assert "b.csv.gz: the gzip stream ends early" in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.csv", "b.csv.gz"]


def test_a_failing_scan_leaves_an_earlier_output_file_untouched(tmp_path: Path) -> None:
    out = tmp_path / "flagged.csv"
    out.write_text("earlier results\n", encoding="utf-8")
    missing = write_csv(tmp_path / "x.csv", [("1", "x")], header=("event", "notes"))
    result = _run("scan", str(missing), "--preset", "internal", "--out", str(out))
    assert result.exit_code == 2
    assert "the file's columns are: event, notes" in result.stderr
    assert out.read_text(encoding="utf-8") == "earlier results\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["flagged.csv", "x.csv"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--preset", "internal", "--id-column", "id"], "either --preset or the --*-column"),
        ([], "give --preset NAME, or --id-column"),
        (["--id-column", "id"], "give at least one --text-column or --type-column"),
    ],
)
def test_column_options_must_be_a_preset_or_an_id_with_text_or_type(
    tmp_path: Path, args: list[str], message: str
) -> None:
    src = write_csv(tmp_path / "a.csv")
    result = _run("scan", str(src), "--out", str(tmp_path / "o.csv"), *args)
    assert result.exit_code == 2
    assert message in result.stderr


def test_an_output_folder_that_does_not_exist_is_refused(tmp_path: Path) -> None:
    src = write_csv(tmp_path / "a.csv")
    result = _run("scan", str(src), "--preset", "internal", "--out", str(tmp_path / "no" / "o.csv"))
    assert result.exit_code == 2
    assert "--out: the folder" in result.stderr


def test_a_missing_input_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    out = tmp_path / "o.csv"
    result = _run("scan", str(tmp_path / "nope.csv"), "--preset", "internal", "--out", str(out))
    assert result.exit_code == 2
    assert "nope.csv: no such file" in result.stderr
    assert not out.exists()


def test_custom_columns_read_a_file_with_its_own_names(tmp_path: Path) -> None:
    header = ("EventNo", "Received", "Nature", "Comments", "Notes")
    rows = [
        ("E1", "t1", "OTHER", "see notes", "HSI REQ ASST W/ STOP"),
        ("E2", "t2", "ALIEN", "", ""),
    ]
    src = write_csv(tmp_path / "own.csv", rows, header, delimiter=";")
    out = tmp_path / "o.csv"
    result = _run("scan", str(src), "--id-column", "EventNo", "--time-column", "Received",
                  "--type-column", "Nature", "--text-column", "Comments", "--text-column",
                  "Notes", "--out", str(out))  # fmt: skip
    assert result.exit_code == 0, result.output
    rows_out = _flagged(out)
    assert [(r["id"], r["time"], r["evidence"]) for r in rows_out] == [
        ("E1", "t1", "HSI REQ ASST"),
        ("E2", "t2", "ALIEN"),
    ]


def test_a_progress_bar_is_drawn_only_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    screen = Terminal()
    monkeypatch.setattr(sys, "stderr", screen)
    with audit_cli._progress([100, 300]) as report:
        assert report is not None
        report(0, 1.0)
        report(1, 0.5)
    assert "scanning" in screen.getvalue()
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    with audit_cli._progress([100]) as report:
        assert report is None


def test_explain_prints_every_rule_and_the_decision() -> None:
    result = _run("explain", "--text", "I.C.E. REQ 10-78", "--call-type", "AOA")
    assert result.exit_code == 0
    assert "[fired]  agency.acronym" in result.output
    assert "[fired]  call-type.assist-other-agency" in result.output
    assert "Decision: agency_request" in result.output
    assert 'Evidence: "I.C.E. REQ 10-78" | "AOA"' in result.output


def test_evaluate_accepts_yes_no_labels_and_lists_mistakes(tmp_path: Path) -> None:
    labels = tmp_path / "labels.csv"
    labels.write_text(
        "id,label,text\nA,yes,ICE REQ\nB,no,x\nC,1,HSI NEEDS UNIT\n", encoding="utf-8"
    )
    flagged = tmp_path / "f.csv"
    flagged.write_text(
        "id,time,score,category,evidence,rules\nA,,0.9,agency_request,ICE REQ,r\n"
        "B,,0.9,agency_request,oops,r\nZ,,0.9,agency_request,who,r\n",
        encoding="utf-8",
    )
    result = _run("evaluate", "--labels", str(labels), str(flagged))
    assert result.exit_code == 0, result.output
    assert "precision 0.333  recall 0.500  F1 0.400" in result.output
    assert "TP 1  FP 2  FN 1" in result.output
    assert "1 flagged ids have no label" in result.output
    assert "  B [none] evidence: oops" in result.output
    assert "  C  HSI NEEDS UNIT" in result.output
    below = _run("evaluate", "--labels", str(labels), str(flagged), "--fail-under", "0.9")
    assert below.exit_code == 1


@pytest.mark.parametrize(
    ("labels_text", "message"),
    [
        ("id,label\nA,maybe\n", "labels.csv, line 2: unknown label 'maybe'"),
        ("id,label\nA,yes\nA,no\n", "labels.csv, line 3: id 'A' is labelled twice"),
        ("ident,label\nA,yes\n", "labels.csv: no column id; the file's columns are: ident, label"),
    ],
)
def test_evaluate_refuses_bad_labels_naming_the_line(
    tmp_path: Path, labels_text: str, message: str
) -> None:
    labels = tmp_path / "labels.csv"
    labels.write_text(labels_text, encoding="utf-8")
    flagged = tmp_path / "f.csv"
    flagged.write_text("id,category\n", encoding="utf-8")
    result = _run("evaluate", "--labels", str(labels), str(flagged))
    assert result.exit_code == 2
    assert message in result.stderr


def test_a_broken_rules_file_given_with_rules_is_refused(tmp_path: Path) -> None:
    rules = tmp_path / "broken-2026-12.yaml"
    rules.write_text("rules: [unclosed", encoding="utf-8")
    src = write_csv(tmp_path / "a.csv")
    out = tmp_path / "o.csv"
    result = _run(
        "scan", str(src), "--preset", "internal", "--rules", str(rules), "--out", str(out)
    )
    assert result.exit_code == 2
    assert "broken-2026-12.yaml: not valid YAML" in result.stderr
    assert not out.exists()
