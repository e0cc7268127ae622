"""`assistgate keys ...`: create the ledger's signing key once, and show its public half."""

from __future__ import annotations

import click

from assistgate.cli.common import key_store, load_settings, reports_errors
from assistgate.ledger.keys import key_id


@click.group()
def keys() -> None:
    """Create and publish the Ed25519 key that signs the ledger's checkpoints."""


@keys.command()
@reports_errors
def init() -> None:
    """Create the ledger's signing key in <data dir>/keys; never overwrite an existing one.

    Prints where the two files are and the public key (PEM) to publish. Keep the private key
    file secret and backed up: a lost key cannot sign new checkpoints, and a new key would
    not verify the earlier ones. Exits 1, changing nothing, if a key is already there.
    """
    store = key_store(load_settings())
    store.init()
    public = store.ledger_public_key()
    click.echo(f"created the ledger's signing key {key_id(public)}")
    click.echo(f"  private key: {store.private_path}  (mode 0600: keep it secret, back it up)")
    click.echo(f"  public key:  {store.public_path}  (publish it, so anyone can verify)")
    click.echo(store.public_key_pem(), nl=False)


@keys.command()
@reports_errors
def show() -> None:
    """Print the ledger's public key as PEM, for publication.

    Anyone verifying an export, a proof or a checkpoint offline needs this key:
    `assistgate keys show > ledger.pub.pem`.
    """
    click.echo(key_store(load_settings()).public_key_pem(), nl=False)
