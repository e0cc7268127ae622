"""The `assistgate` command line: one group per domain, each command with --help."""

from __future__ import annotations

import click

from assistgate import __version__
from assistgate.cli.audit import audit as audit_group
from assistgate.cli.backup import backup
from assistgate.cli.cfs import cfs
from assistgate.cli.db import db
from assistgate.cli.demo import demo
from assistgate.cli.duty import duty
from assistgate.cli.endpoint import endpoint
from assistgate.cli.evidence import evidence
from assistgate.cli.keys import keys
from assistgate.cli.ledger import ledger
from assistgate.cli.outbox import outbox
from assistgate.cli.policy import policy
from assistgate.cli.recordings import recordings
from assistgate.cli.report import report
from assistgate.cli.request import request_group
from assistgate.cli.serve import serve
from assistgate.cli.token import token
from assistgate.cli.user import user


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="assistgate")
def main() -> None:
    """Review, decide, record and publish requests for police help from immigration agencies."""


main.add_command(policy)
main.add_command(demo)
main.add_command(request_group)
main.add_command(user)
main.add_command(keys)
main.add_command(ledger)
main.add_command(db)
main.add_command(audit_group)
main.add_command(serve)
main.add_command(token)
main.add_command(endpoint)
main.add_command(outbox)
main.add_command(duty)
main.add_command(evidence)
main.add_command(recordings)
main.add_command(report)
main.add_command(cfs)
main.add_command(backup)
