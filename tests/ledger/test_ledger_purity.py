"""The ledger's core stays pure: no web framework, no ORM, no I/O outside the file key store.

The storage layer (models.py, store.py, verify.py) lives in the same package and may use the
ORM; the modules below are the core it calls, which an offline verifier runs on its own.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import assistgate.ledger

LEDGER_DIR = Path(assistgate.ledger.__file__).parent
CORE_MODULES = (
    "__init__.py",
    "canonical.py",
    "checkpoint.py",
    "entry.py",
    "errors.py",
    "export.py",
    "hashing.py",
    "keys.py",
    "merkle.py",
)
FORBIDDEN = (
    "fastapi",
    "starlette",
    "flask",
    "django",
    "sqlalchemy",
    "alembic",
    "psycopg",
    "sqlite3",
    "uvicorn",
    "httpx",
    "requests",
    "aiohttp",
    "click",
    "pydantic",
    "socket",
    "urllib",
    "http",
    "subprocess",
)
# Only the key store touches the file system.
IO_MODULES = {"os", "pathlib", "stat", "shutil", "tempfile", "io"}
IO_ALLOWED_IN = {"keys.py"}


def _imported_roots(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    roots: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


def test_the_ledger_core_imports_only_the_standard_library_cryptography_and_itself() -> None:
    allowed_third_party = {"cryptography", "assistgate"}
    offenders = {}
    for path in (LEDGER_DIR / name for name in CORE_MODULES):
        bad = {
            m
            for m in _imported_roots(path)
            if m in FORBIDDEN
            or (m not in sys.stdlib_module_names and m not in allowed_third_party)
            or (m in IO_MODULES and path.name not in IO_ALLOWED_IN)
        }
        if bad:
            offenders[path.name] = sorted(bad)
    assert offenders == {}


def test_the_ledger_core_imports_nothing_from_assistgate_outside_itself() -> None:
    for path in (LEDGER_DIR / name for name in CORE_MODULES):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.ImportFrom)
                and node.module
                and node.module.startswith("assistgate")
            ):
                assert node.module.startswith("assistgate.ledger"), (path.name, node.module)


def test_verifying_an_export_loads_no_web_framework_or_orm() -> None:
    code = (
        "import sys\n"
        "from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey\n"
        "from assistgate.ledger import Checkpoint, EMPTY_ROOT, export_lines, sign_checkpoint\n"
        "from assistgate.ledger import verify_export\n"
        "key = Ed25519PrivateKey.generate()\n"
        "cp = sign_checkpoint(Checkpoint('x', 0, EMPTY_ROOT, '2017-10-02T14:03:07.123456Z'), key)\n"
        "verify_export(export_lines([], cp), key.public_key())\n"
        "print('\\n'.join(sorted(sys.modules)))\n"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True
    ).stdout.split()
    roots = {m.split(".")[0] for m in loaded}
    assert "assistgate" in roots
    assert sorted(roots & set(FORBIDDEN) - {"http", "urllib", "socket", "subprocess"}) == []
