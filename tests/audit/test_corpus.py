"""The labelled corpus: rebuilt byte for byte by its generator, independent of the rules."""

from __future__ import annotations

import ast
import csv
import gzip
import re
from collections import Counter
from pathlib import Path

import assistgate.audit
from assistgate.audit import corpus

DATA = Path(__file__).with_name("data")
AUDIT_DIR = Path(assistgate.audit.__file__).parent


def test_the_generator_rebuilds_the_shipped_corpus_and_labels_byte_for_byte(
    tmp_path: Path,
) -> None:
    corpus_path, labels_path = corpus.write(corpus.generate(), tmp_path)
    assert corpus_path.read_bytes() == (DATA / corpus.CORPUS_FILE).read_bytes()
    assert labels_path.read_bytes() == (DATA / corpus.LABELS_FILE).read_bytes()


def test_the_generator_shares_no_code_with_the_detector_or_its_rules() -> None:
    for name in ("corpus.py", "corpus_vocab.py"):
        source = (AUDIT_DIR / name).read_text(encoding="utf-8")
        imported = set()
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.ImportFrom) and node.module:
                imported.add(node.module)
                imported.update(f"{node.module}.{a.name}" for a in node.names)
            elif isinstance(node, ast.Import):
                imported.update(a.name for a in node.names)
        assert not {m for m in imported if re.search(r"detector|rules|tokens|yaml", m)}, name
        assert "dispatch-2026-11" not in source


def test_the_corpus_is_large_small_on_disk_and_mostly_ordinary_calls() -> None:
    assert (DATA / corpus.CORPUS_FILE).stat().st_size < 2_000_000
    with gzip.open(DATA / corpus.CORPUS_FILE, "rt", encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    with (DATA / corpus.LABELS_FILE).open(encoding="utf-8", newline="") as f:
        labels = {r["id"]: r["label"] for r in csv.DictReader(f)}
    assert len(rows) >= 20_000
    assert [r["incident_number"] for r in rows] == list(labels)
    counts = Counter(labels.values())
    assert 300 <= counts["agency_request"] <= 600
    assert counts["none"] > 0.9 * len(rows)
    look_alike = re.compile(r"\b(ICE|ERO|DHS|BP|INS)\b|POLICE|ZERO|HERO|FBI|DEA", re.IGNORECASE)
    hard = [
        r
        for r in rows
        if labels[r["incident_number"]] == "none" and look_alike.search(r["remarks"])
    ]
    assert len(hard) >= 3000


def test_the_held_out_set_has_about_150_hand_written_rows_of_every_label() -> None:
    with (DATA / "heldout.csv").open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        rows = list(reader)
    assert reader.fieldnames == ["id", "text", "call_type", "label"]
    assert 140 <= len(rows) <= 180
    assert set(Counter(r["label"] for r in rows)) == {
        "agency_request",
        "agency_notification",
        "public_mentions_immigration",
        "none",
    }
