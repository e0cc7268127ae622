"""The policy engine stays pure: no web framework, no ORM, no I/O beyond its profile files."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import assistgate.policy

POLICY_DIR = Path(assistgate.policy.__file__).parent
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


def _imported_roots(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    roots: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


def test_policy_source_imports_only_the_standard_library_yaml_and_itself() -> None:
    allowed_third_party = {"yaml", "assistgate"}
    offenders = {}
    for path in sorted(POLICY_DIR.glob("*.py")):
        bad = {
            m
            for m in _imported_roots(path)
            if m in FORBIDDEN or (m not in sys.stdlib_module_names and m not in allowed_third_party)
        }
        if bad:
            offenders[path.name] = sorted(bad)
    assert offenders == {}


def test_policy_imports_nothing_outside_the_policy_package_from_assistgate() -> None:
    for path in sorted(POLICY_DIR.glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.ImportFrom)
                and node.module
                and node.module.startswith("assistgate")
            ):
                assert node.module.startswith("assistgate.policy"), (path.name, node.module)


def test_importing_and_using_the_engine_loads_no_web_framework_or_orm() -> None:
    code = (
        "import sys\n"
        "from assistgate.policy import PolicyEngine\n"
        "e = PolicyEngine()\n"
        "e.evaluate_json({'date': '2018-01-02', 'requested_actions': ['backup']})\n"
        "print('\\n'.join(sorted(sys.modules)))\n"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True
    ).stdout.split()
    roots = {m.split(".")[0] for m in loaded}
    assert "assistgate" in roots
    assert sorted(roots & set(FORBIDDEN) - {"http", "urllib", "socket"}) == []
