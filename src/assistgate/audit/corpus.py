"""Write the labelled synthetic dispatch corpus that measures the audit detector.

Run `python -m assistgate.audit.corpus --out-dir tests/audit/data` to rebuild
`dispatch_corpus.csv.gz` (columns of the `internal` preset) and `dispatch_labels.csv` (id,label).
The seed is fixed, so the files are the same on every machine.

Remarks are composed from templates, the vocabulary in `corpus_vocab`, abbreviations,
misspellings and noise (unit ids, addresses, times, plates). This module shares no code and no
word lists with the detector or its rules file on purpose: a corpus written from the rules would
only measure whether the rules agree with themselves. A test checks that it imports neither.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import gzip
import io
import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from assistgate.audit import corpus_vocab as v

SEED = 20171
DEFAULT_ROWS = 24_000
CORPUS_FILE = "dispatch_corpus.csv.gz"
LABELS_FILE = "dispatch_labels.csv"
COLUMNS = ("incident_number", "call_time", "call_type", "remarks")

REQUEST = "agency_request"
NOTIFICATION = "agency_notification"
PUBLIC = "public_mentions_immigration"
NONE = "none"


@dataclass(frozen=True, slots=True)
class Call:
    """One synthetic call for service and the category a careful reader would give it."""

    incident_number: str
    call_time: str
    call_type: str
    remarks: str
    label: str


class _Pen:
    """Random choices, noise and misspellings, all from one seeded generator."""

    def __init__(self, rng: random.Random) -> None:
        self.r = rng

    def pick(self, options: list[str]) -> str:
        return self.r.choice(options)

    def maybe(self, text: str, p: float = 0.5) -> str:
        return text if self.r.random() < p else ""

    def address(self) -> str:
        street = self.pick(v.STREETS)
        form = self.r.randrange(5)
        if form == 0:
            return f"{self.r.randrange(100, 9999)} {street}"
        if form == 1:
            return f"{self.r.randrange(1, 99)}00 BLK {street}"
        if form == 2:
            return f"{street} / {self.pick(v.STREETS)}"
        if form == 3:
            road = self.pick(["I-65", "I-64", "I-71", "I-264"])
            way = self.pick(["NB", "SB", "EB", "WB"])
            return f"{road} {way} MM {self.r.randrange(1, 140)}"
        return f"{self.r.randrange(100, 9999)} {street} APT {self.r.randrange(1, 40)}"

    def unit(self) -> str:
        code = f"{self.r.randrange(1, 9)}{self.pick(list('ABCDEFG'))}{self.r.randrange(10, 99)}"
        return self.pick([code, f"UNIT {code}", f"CAR {self.r.randrange(100, 999)}", code])

    def clock(self) -> str:
        hhmm = f"{self.r.randrange(24):02d}{self.r.randrange(60):02d}"
        return self.pick([f"@ {hhmm}", f"AT {hhmm}", f"{hhmm} HRS", f"[{hhmm}]"])

    def plate(self) -> str:
        chars = "".join(self.r.choice("ABCDEFGHJKLMNPRSTUVWXYZ0123456789") for _ in range(6))
        return f"{self.pick(['KY', 'IN', 'TN', 'OH'])} PLT {chars}"

    def noise(self) -> str:
        """Return what dispatchers add around the substance: units, times, plates, notes."""
        extras = [
            f"{self.unit()} ENRT",
            self.clock(),
            self.plate(),
            f"CB 502-555-{self.r.randrange(100, 9999):04d}",
            "CO NOTIFIED",
            "SGT NOTIFIED",
            "SEE PRIOR",
            f"{self.unit()} OS",
            "PRIORITY 2",
            "*DUPLICATE CALL*",
        ]
        return self.pick(extras)

    def join(self, parts: list[str]) -> str:
        parts = [p for p in parts if p]
        out = parts[0]
        for p in parts[1:]:
            out += self.pick([", ", " - ", "; ", ". ", " ", " / ", ",", " -- "]) + p
        return out

    def dress(self, text: str) -> str:
        """Add noise, misspell some long words and choose a letter case, as records vary."""
        if self.r.random() < 0.45:
            text = self.join([text, self.noise()])
        if self.r.random() < 0.2:
            text = self.join([self.noise(), text])
        text = " ".join(self._typo(w) for w in text.split(" "))
        roll = self.r.random()
        if roll < 0.08:
            return text.lower()
        if roll < 0.16:
            return text[:1] + text[1:].lower()
        return text

    def _typo(self, word: str) -> str:
        if len(word) < 6 or not word.isalpha() or self.r.random() > 0.03:
            return word
        i = self.r.randrange(1, len(word) - 1)
        kind = self.r.randrange(3)
        if kind == 0:
            return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
        if kind == 1:
            return word[:i] + word[i + 1 :]
        return word[:i] + word[i] + word[i:]


def _agency(p: _Pen) -> str:
    roll = p.r.random()
    if roll < 0.55:
        base = p.pick(v.AGENCY_SHORT)
    elif roll < 0.85:
        base = p.pick(v.AGENCY_LONG)
    else:
        base = p.pick(v.AGENCY_MISSPELT)
    return base


def _agency_actor(p: _Pen) -> str:
    """Return the agency as the one acting: often with a person word ('ICE AGT', 'HSI SA')."""
    base = _agency(p)
    if p.r.random() < 0.55 or base in ("IMMIGRATION", "FEDERAL IMMIGRATION", "DHS"):
        return f"{base} {p.pick(v.AGENCY_PERSON)}"
    return base


def _request(p: _Pen) -> str:
    """Compose a call in which an immigration agency asks the police for help."""
    ag = _agency_actor(p)
    ask = f"{p.pick(v.ASK_VERB)} {p.pick(v.ASK_OBJECT)}"
    purpose = p.pick(v.PURPOSE)
    where = p.address()
    form = p.r.randrange(11)
    if form == 0:
        return p.join([f"{ag} {ask} {purpose}".strip(), p.maybe(f"AT {where}", 0.7)])
    if form == 1:
        return p.join([f"{ag} {p.pick(v.ON_SCENE)} {p.maybe('AT ' + where, 0.4)}".strip(), ask])
    if form == 2:
        return f"{p.pick(v.RELAY)} {ag} {ask} {purpose}".strip()
    if form == 3:
        return p.join([f"{p.pick(v.POLICE_HELPING)} {_agency(p)} {purpose}".strip(), where])
    if form == 4:
        noun = p.pick(["REQUEST", "REQ", "RQST", "CALL"])
        return p.join([f"{noun} FROM {ag} FOR {p.pick(v.ASK_OBJECT)}", where])
    if form == 5:
        doing = p.pick(["SERVING WARRANT", "CONDUCTING SURVEILLANCE", "ON A STOP", "AT A HOUSE"])
        return p.join([f"{ag} {doing} AT {where}", ask])
    if form == 6:
        return p.join([f"10-78 FOR {ag}", where])
    if form == 7:
        return (
            f"{p.pick(['Agent', 'Officer', 'Someone'])} from {_agency(p).lower()} "
            f"{p.pick(['is asking for', 'wants', 'needs', 'requested'])} "
            f"{p.pick(['an officer', 'a unit', 'backup', 'help', 'two cars'])} "
            f"{purpose.lower()} at {where.title()}"
        )
    if form == 8:
        other = p.pick(v.OTHER_FEDERAL)
        return p.join([f"{ag} AND {other} {ask} {purpose}".strip(), where])
    if form == 9:
        return p.join([f"{ag} {ask}", f"SUBJ {p.pick(['FLED', 'BARRICADED', 'COMBATIVE'])}"])
    return p.join([f"PER {p.pick(['SGT', 'LT', 'CO'])}", f"2 UNITS TO ASSIST {_agency(p)}", where])


def _notification(p: _Pen) -> str:
    """Compose a call in which the agency tells the police something and asks for nothing."""
    ag = _agency_actor(p)
    told = f"{p.pick(v.INFORM_VERB)} {p.pick(v.INFORM_WHAT)}"
    form = p.r.randrange(5)
    if form == 0:
        return p.join([f"{ag} {told}", p.maybe(p.address(), 0.6), p.pick(v.NOT_ASKING)])
    if form == 1:
        return p.join(["FYI", f"{ag} {told}", p.pick(v.NOT_ASKING)])
    if form == 2:
        lead = p.pick(["COURTESY CALL FROM", "NOTIFICATION FROM", "DECONFLICTION -"])
        about = p.pick([w for w in v.INFORM_WHAT if w.startswith("OF ")]).removeprefix("OF ")
        return p.join([f"{lead} {ag} RE {about}", p.pick(v.NOT_ASKING)])
    if form == 3:
        return p.join([p.pick(v.NOT_ASKING), f"{ag} {told}"])
    return (
        f"{_agency(p).title()} called to let dispatch know about "
        f"{p.pick(['an operation', 'a warrant service', 'an arrest', 'surveillance'])} "
        f"near {p.address().title()}, "
        f"{p.pick(['no officers needed', 'they do not need us', 'info only', 'no assist'])}"
    )


def _public(p: _Pen) -> str:
    """Compose a call in which a resident, a scammer or a neighbour brings up immigration."""
    who, ag = p.pick(v.REPORTER), p.pick(v.PUBLIC_AGENCY)
    form = p.r.randrange(11)
    if form == 0:
        rel, taken, their = p.pick(v.RELATIVE), p.pick(v.TAKEN), p.pick(["HER", "HIS", "THEIR"])
        return p.join([f"{who} STATES {their} {rel} WAS {taken} {ag}", p.pick(v.WANTS)])
    if form == 1:
        lead, claim, demand = p.pick(v.CONTACT_LEAD), p.pick(v.CLAIMING), p.pick(v.DEMAND)
        return f"{who} {lead} {claim} {ag} {demand}"
    if form == 2:
        dispute, person, threat = p.pick(v.DISPUTE), p.pick(v.THREATENER), p.pick(v.THREATEN)
        target = p.pick(["ON HER", "ON THEM", "ON FAMILY", ""])
        return p.join([dispute, f"{person} {threat} {ag} {target}"])
    if form == 3:
        fear, verb, where = p.pick(v.FEAR), p.pick(["IS", "ARE", "WAS"]), p.pick(v.SEEN_WHERE)
        return p.join([f"{who} {fear} {ag} {verb} {where}", p.pick(v.WANTS)])
    if form == 4:
        where, feeling = p.pick(v.SEEN_WHERE), p.pick(v.FEELING)
        return p.join([f"{who} STATES {ag} AGENTS {where}", feeling, p.maybe("REQ OFFICER")])
    if form == 5:
        what = p.pick(["PROTEST", "RALLY", "DEMONSTRATION", "MARCH", "VIGIL"])
        place = p.pick(["FEDERAL BLDG", "JEFFERSON SQ", p.address()])
        crowd = f"APPROX {p.r.randrange(20, 400)} PEOPLE"
        return p.join([f"{what} AGAINST {ag} AT {place}", crowd, p.maybe("REQ UNITS FOR TRAFFIC")])
    if form == 6:
        ask, police, crime = p.pick(v.ASK_IF), p.pick(v.POLICE_NAMES), p.pick(v.CRIMES)
        return f"{who} {ask} {police} WILL CALL {ag} IF SHE REPORTS {crime}"
    if form == 7:
        papers, place = p.pick(v.PAPERS), p.pick(["VEH", "APT", "PURSE"])
        return p.join([f"{who} REPORTS {papers} STOLEN FROM {place}", p.maybe(p.address())])
    if form == 8:
        hold, where = p.pick(v.HOLDS), p.pick(["LMDC", "JAIL", "BOOKING"])
        return p.join([f"ARRESTEE HAS {hold}", f"TRANSPORTED TO {where}"])
    if form == 9:
        return f"{who} WANTS TO REPORT {p.pick(['NEIGHBOR', 'COWORKER', 'EX', 'TENANT'])} TO {ag}"
    claim, deed, doubt = p.pick(v.CLAIMING), p.pick(v.IMPOSTOR_DEED), p.pick(v.DOUBT)
    return p.join([f"MALE {claim} {ag} {deed}", doubt])


def _hard_negative(p: _Pen) -> str:
    """Compose a call that looks like the agency at a glance and is not."""
    form = p.r.randrange(12)
    if form == 0:
        ice, surface, then = p.pick(v.ICE_PATCH), p.pick(v.ROAD_SURFACE), p.pick(v.ROAD_THEN)
        return p.join([f"{ice} ON {surface}", then])
    if form == 1:
        who, fell, hurt = p.pick(v.FALLER), p.pick(["SLIPPED", "FELL"]), p.pick(v.HURT)
        return p.join([f"{who} {fell} ON ICE", hurt])
    if form == 2:
        took, goods, shop = p.pick(v.TOOK), p.pick(v.ICE_GOODS), p.pick(v.SHOPS)
        return p.join([f"{took} {goods}", f"FROM {shop}"])
    if form == 3:
        goods, harm = p.pick(v.ICE_GOODS), p.pick(v.GOODS_HARM)
        return p.join([f"{goods} {harm}", p.address()])
    if form == 4:
        place, trouble = p.pick(v.RINKS), p.pick(v.RINK_TROUBLE)
        return p.join([f"{trouble} {place}", p.maybe("REQ UNIT")])
    if form == 5:
        has, drug = p.pick(["IN POSS OF", "WITH", "HAS"]), p.pick(v.DRUG_ICE)
        return p.join(
            [f"SUBJ {has} {drug}", p.maybe(p.pick(["REQ OFFICER", "NARCOTICS NOTIFIED"]))]
        )
    if form == 6:
        w1, w2 = p.pick(v.LOOKALIKE_WORDS), p.pick(v.LOOKALIKE_WORDS)
        return p.join([f"{w1} {p.pick(v.ORDINARY)}", f"{w2} {p.pick(v.ORDINARY_EXTRA)}"])
    if form in (7, 8):
        ask = f"{p.pick(v.ASK_VERB)} {p.pick(v.ASK_OBJECT)} {p.pick(v.PURPOSE)}".strip()
        return p.join([f"{p.pick(v.OTHER_FEDERAL)} {ask}", p.address()])
    if form == 9:
        ask = f"{p.pick(v.ASK_VERB)} {p.pick(v.ASK_OBJECT)}"
        return p.join([f"{p.pick(v.OTHER_LOCAL)} {ask}", p.address()])
    if form == 10:
        return p.pick(v.ODD_ONES)
    agency, told = p.pick(["DEA", "FBI", "ATF"]), p.pick(v.INFORM_VERB)
    return p.join([f"{agency} {told} {p.pick(v.INFORM_WHAT)}", p.pick(v.NOT_ASKING)])


def _ordinary(p: _Pen) -> str:
    parts = [p.pick(v.ORDINARY)]
    for _ in range(p.r.randrange(3)):
        parts.append(p.pick(v.ORDINARY_EXTRA))
    if p.r.random() < 0.6:
        parts.append(p.address())
    return p.join(parts)


def _call_type(p: _Pen, label: str) -> str:
    roll = p.r.random()
    if label == REQUEST:
        if roll < 0.45:
            return p.pick(["ASSIST OTHER AGENCY", "AOA", "ASSIST OUTSIDE AGENCY"])
        if roll < 0.5:
            return "ALIEN"
        return p.pick(["TRAFFIC", "WARRANT", "OTHER", "ASSIST", "SUSP"])
    if label == NOTIFICATION:
        if roll < 0.05:
            return "ALIEN"
        return p.pick(["INFO", "NOTIFICATION", "OTHER", "ASSIST OTHER AGENCY", "INFO"])
    if label == PUBLIC:
        if roll < 0.05:
            return "ALIEN"
        return p.pick(["FRAUD", "THREATS", "SUSP", "WELFARE", "INFO", "DOMESTIC", "OTHER"])
    if roll < 0.01:
        return "ASSIST OTHER AGENCY"
    return p.pick(v.CALL_TYPES_ORDINARY)


def generate(rows: int = DEFAULT_ROWS, seed: int = SEED) -> list[Call]:
    """Return `rows` labelled calls: a few hundred requests, thousands of hard negatives."""
    rng = random.Random(seed)
    pen = _Pen(rng)
    plan: list[tuple[str, Callable[[_Pen], str]]] = []
    counts = {REQUEST: rows * 7 // 400, NOTIFICATION: rows // 140, PUBLIC: rows * 7 // 400}
    makers: dict[str, Callable[[_Pen], str]] = {
        REQUEST: _request,
        NOTIFICATION: _notification,
        PUBLIC: _public,
    }
    for label, count in counts.items():
        plan += [(label, makers[label])] * count
    plan += [(NONE, _hard_negative)] * (rows * 22 // 100)
    plan += [(NONE, _ordinary)] * (rows - len(plan))

    start = dt.datetime(2017, 1, 1)
    seconds = [rng.randrange(181 * 86400) for _ in plan]
    rng.shuffle(plan)
    calls: list[Call] = []
    for n, ((label, make), offset) in enumerate(zip(plan, sorted(seconds), strict=True)):
        remarks = pen.dress(make(pen))
        when = (start + dt.timedelta(seconds=offset)).strftime("%Y-%m-%d %H:%M:%S")
        calls.append(Call(f"P17{n + 1:06d}", when, _call_type(pen, label), remarks, label))
    return calls


def write(calls: list[Call], out_dir: Path) -> tuple[Path, Path]:
    """Write the gzip corpus and the labels file under `out_dir`; return both paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    text = io.StringIO()
    w = csv.writer(text, lineterminator="\n")
    w.writerow(COLUMNS)
    w.writerows((c.incident_number, c.call_time, c.call_type, c.remarks) for c in calls)
    corpus = out_dir / CORPUS_FILE
    # mtime=0 keeps the gzip bytes identical from run to run.
    with (
        corpus.open("wb") as raw,
        gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as gz,
    ):
        gz.write(text.getvalue().encode("utf-8"))
    labels = out_dir / LABELS_FILE
    with labels.open("w", encoding="utf-8", newline="") as f:
        lw = csv.writer(f, lineterminator="\n")
        lw.writerow(("id", "label"))
        lw.writerows((c.incident_number, c.label) for c in calls)
    return corpus, labels


def main(argv: list[str] | None = None) -> None:
    """Rebuild the corpus and its labels; print how many calls of each label were written."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--out-dir", type=Path, default=Path("tests/audit/data"))
    parser.add_argument("--rows", type=int, default=DEFAULT_ROWS)
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args(argv)
    calls = generate(args.rows, args.seed)
    corpus, labels = write(calls, args.out_dir)
    by_label = Counter(c.label for c in calls)
    print(f"wrote {len(calls)} calls to {corpus} and {labels}: {dict(sorted(by_label.items()))}")


if __name__ == "__main__":
    main()
