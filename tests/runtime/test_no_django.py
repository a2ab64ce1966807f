"""runtime/ is plain Python: a Celery task may use it, but it must never import Django."""

from __future__ import annotations

import ast
from pathlib import Path

RUNTIME = Path(__file__).resolve().parents[2] / "runtime"


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_it_never_imports_django():
    files = sorted(RUNTIME.rglob("*.py"))
    assert len(files) > 10
    offenders = {str(p.relative_to(RUNTIME)): n for p in files for n in _imports(p) if n.split(".")[0] == "django"}
    assert offenders == {}


def test_it_imports_docker_py_only_in_the_docker_module():
    users = sorted(
        str(p.relative_to(RUNTIME))
        for p in RUNTIME.rglob("*.py")
        if any(n.split(".")[0] == "docker" for n in _imports(p))
    )
    assert users == ["docker.py"]
