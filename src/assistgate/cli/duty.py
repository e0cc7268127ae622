"""`assistgate duty ...`: who is on duty, in the order alerts and escalations go.

A roster is a CSV file with the columns `username,on_duty,rank` (and an optional `contact`,
the pager or phone the gateway reaches the commander at), one commander a line, a header line
optional. The whole file is checked before anything changes; each changed commander is a
ledger entry.
"""

from __future__ import annotations

import csv
import getpass
import hashlib
from dataclasses import dataclass
from pathlib import Path

import click
from sqlalchemy import select
from sqlalchemy.orm import Session

from assistgate.auth.enums import Role
from assistgate.auth.models import User, UserRole
from assistgate.cli.common import echo_json, opened_app, reports_errors, table
from assistgate.ledger.store import LedgerWriter
from assistgate.requests.enums import Event
from assistgate.requests.errors import InvalidField
from assistgate.requests.escalation import duty_list

HEADER = ("username", "on_duty", "rank", "contact")
YES, NO = ("true", "yes", "1", "on", "y"), ("false", "no", "0", "off", "n")
MAX_RANK = 100_000


@dataclass(frozen=True)
class RosterLine:
    line: int
    username: str
    on_duty: bool
    rank: int
    contact: str | None


def read_roster(path: Path) -> list[RosterLine]:
    """Read and check a roster file; the error names the line and the column."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise InvalidField("roster", f"{path}: no such file") from None
    except UnicodeDecodeError:
        raise InvalidField("roster", f"{path} is not UTF-8 text") from None
    lines: list[RosterLine] = []
    seen: set[str] = set()
    for number, row in enumerate(csv.reader(text.splitlines()), start=1):
        cells = [c.strip() for c in row]
        if not any(cells) or (number == 1 and cells and cells[0].lower() == "username"):
            continue
        where = f"{path.name}, line {number}"
        if len(cells) not in (3, 4):
            raise InvalidField(where, f"expected {', '.join(HEADER[:3])} (and optionally "
                               f"contact); got {len(cells)} columns")  # fmt: skip
        username, on_duty, rank = cells[0].lower(), cells[1].lower(), cells[2]
        if on_duty not in YES + NO:
            raise InvalidField(f"{where}, on_duty", f"expected true or false; got {cells[1]!r}")
        if not rank.isascii() or not rank.isdigit() or int(rank) > MAX_RANK:
            raise InvalidField(f"{where}, rank", f"expected a whole number from 0 to {MAX_RANK} "
                               f"(lower is alerted first); got {rank!r}")  # fmt: skip
        if username in seen:
            raise InvalidField(f"{where}, username", f"{username} is listed twice")
        contact = cells[3] if len(cells) == 4 else None
        if contact is not None and len(contact) > 200:
            raise InvalidField(f"{where}, contact", "at most 200 characters")
        seen.add(username)
        lines.append(RosterLine(number, username, on_duty in YES, int(rank), contact))
    if not lines:
        raise InvalidField("roster", f"{path} lists nobody")
    return lines


def apply_roster(
    session: Session,
    ledger: LedgerWriter,
    lines: list[RosterLine],
    *,
    source: str,
    actor: str,
    replace: bool = False,
) -> list[User]:
    """Set each listed commander's duty, rank and contact; return those that changed.

    With `replace`, every commander the roster does not list goes off duty.
    """
    changed: list[User] = []
    listed: set[str] = set()
    for line in lines:
        user = session.scalars(select(User).where(User.username == line.username)).one_or_none()
        where = f"{source}, line {line.line}, username"
        if user is None:
            raise InvalidField(where, f"no user named {line.username}")
        if Role.COMMANDER not in user.roles:
            raise InvalidField(where, f"{line.username} is not a commanding officer")
        listed.add(user.username)
        contact = user.contact if line.contact is None else line.contact
        if (user.on_duty, user.duty_rank, user.contact) != (line.on_duty, line.rank, contact):
            user.on_duty, user.duty_rank, user.contact = line.on_duty, line.rank, contact
            changed.append(user)
    if replace:
        others = select(User).join(UserRole, UserRole.user_id == User.id).where(
            UserRole.role == Role.COMMANDER, User.on_duty.is_(True))  # fmt: skip
        for user in session.scalars(others):
            if user.username not in listed:
                user.on_duty = False
                changed.append(user)
    for user in changed:
        ledger.append(session, actor=actor, event=Event.DUTY_CHANGED,
                      subject=f"user:{user.username}"[:64],
                      data={"on_duty": user.on_duty, "duty_rank": user.duty_rank,
                            "by": f"roster {source}"})  # fmt: skip
    return changed


@click.group()
def duty() -> None:
    """Commanders on duty: alerts go to them in rank order, then to command staff."""


@duty.command("import")
@click.argument("roster", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--replace", is_flag=True,
              help="Also take every commander the roster does not list off duty.")  # fmt: skip
@reports_errors
def import_roster(roster: Path, replace: bool) -> None:
    """Import ROSTER.csv (username,on_duty,rank[,contact]); all of it, or nothing."""
    lines = read_roster(roster)
    digest = hashlib.sha256(roster.read_bytes()).hexdigest()[:16]
    with opened_app() as app, app.transaction() as session:
        changed = apply_roster(session, app.deployment.ledger, lines,
                               source=f"{roster.name} (sha256 {digest}…)",
                               actor=f"console:{getpass.getuser()}", replace=replace)  # fmt: skip
        names = [f"{u.username} {'on' if u.on_duty else 'off'} duty" for u in changed]
        order = [u.username for u in duty_list(session)]
    click.echo(f"{len(changed)} changed" + (f": {', '.join(names)}" if names else ""))
    click.echo(
        f"on duty, in alert order: {', '.join(order) or 'nobody (alerts go to command staff)'}"
    )


@duty.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@reports_errors
def list_duty(as_json: bool) -> None:
    """List the commanders on duty, in the order alerts go to them."""
    with opened_app() as app, app.sessions() as session:
        people = duty_list(session)
        contact = app.settings.command_staff_contact
    rows = [{"position": i, "username": u.username, "name": u.display_name,
             "rank": u.duty_rank, "contact": u.contact} for i, u in enumerate(people)]  # fmt: skip
    if as_json:
        echo_json({"on_duty": rows, "then": contact})
        return
    cells = [[str(r["position"]), str(r["username"]), str(r["name"]), str(r["rank"]),
              str(r["contact"])] for r in rows]  # fmt: skip
    click.echo(table(cells, ["ALERTED AT LEVEL", "USERNAME", "NAME", "RANK", "CONTACT"]))
    click.echo(f"then: command staff ({contact})")
