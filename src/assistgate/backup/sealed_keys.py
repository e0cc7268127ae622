"""The private keys in a backup, sealed under a passphrase the operator holds.

Format: MAGIC (8) | salt (16) | nonce (12) | AES-256-GCM ciphertext of a JSON object
{file name: base64 content}. The AES key is derived from the passphrase with scrypt
(N=2**17, r=8, p=1: about a tenth of a second and 128 MiB per guess), and the MAGIC is the
associated data, so an edited header fails like an edited body.
"""

from __future__ import annotations

import base64
import json
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from assistgate.backup.errors import PassphraseError

MAGIC = b"AGKEYS1\n"
MIN_PASSPHRASE = 12
SCRYPT_N = 2**17


def _derive(passphrase: str, salt: bytes) -> bytes:
    return Scrypt(salt=salt, length=32, n=SCRYPT_N, r=8, p=1).derive(passphrase.encode("utf-8"))


def check_passphrase(passphrase: str) -> None:
    """Refuse a passphrase too short to stand up to guessing."""
    if len(passphrase) < MIN_PASSPHRASE:
        raise PassphraseError(f"the backup passphrase must be at least {MIN_PASSPHRASE} "
                              f"characters; got {len(passphrase)}")  # fmt: skip


def seal_files(files: dict[str, bytes], passphrase: str) -> bytes:
    """Return `files` (name to content) encrypted under `passphrase`."""
    check_passphrase(passphrase)
    salt, nonce = os.urandom(16), os.urandom(12)
    plain = json.dumps({n: base64.b64encode(c).decode("ascii") for n, c in files.items()},
                       sort_keys=True).encode("ascii")  # fmt: skip
    return MAGIC + salt + nonce + AESGCM(_derive(passphrase, salt)).encrypt(nonce, plain, MAGIC)


def open_files(blob: bytes, passphrase: str) -> dict[str, bytes]:
    """Return the files sealed in `blob`, or raise `PassphraseError` if it does not open."""
    if not blob.startswith(MAGIC) or len(blob) < len(MAGIC) + 28 + 16:
        raise PassphraseError("the sealed keys file is not one 'backup create' wrote")
    salt, nonce = blob[8:24], blob[24:36]
    try:
        plain = AESGCM(_derive(passphrase, salt)).decrypt(nonce, blob[36:], MAGIC)
    except InvalidTag:
        raise PassphraseError("the passphrase does not open the sealed keys "
                              "(wrong passphrase, or the file was altered)") from None  # fmt: skip
    return {name: base64.b64decode(text) for name, text in json.loads(plain).items()}
