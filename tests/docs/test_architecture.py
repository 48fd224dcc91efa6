"""The layer map in docs/contributing.md is the package's real import graph.

Every import in routing_magics (lazy and TYPE_CHECKING ones included) is read with ast and folded
into rooms: a wing folder (`api/`) or a top-level module (`config`). The map's table must list
every room with exactly the rooms it imports, and in an order where each imports only rooms above
it (so imports point down and there is no circle).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "routing_magics"
MAP_HEADING = "### The layer map"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported(node: ast.Import | ast.ImportFrom, module: str, is_package: bool) -> list[str]:
    """The routing_magics modules (or packages) an import statement names."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names if alias.name.startswith("routing_magics")]
    if node.level == 0:
        base = node.module or ""
        return [base] if base.split(".")[0] == "routing_magics" else []
    parts = module.split(".")
    parts = parts if is_package else parts[:-1]
    parts = parts[: len(parts) - (node.level - 1)]
    return [".".join(parts + ([node.module] if node.module else []))]


def room(module: str) -> str | None:
    """`routing_magics.api.client` → `api`; the package itself has no room."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else None


def room_graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for path in PACKAGE.rglob("*.py"):
        module = module_name(path)
        here = room(module)
        if here is None:  # the package's __init__: entry points that load the wings lazily
            continue
        targets = graph.setdefault(here, set())
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                for name in imported(node, module, path.name == "__init__.py"):
                    there = room(name)
                    if there is not None and there != here:
                        targets.add(there)
    return graph


def documented_map() -> list[tuple[str, set[str]]]:
    """(room, rooms it imports) for each row of the layer map's table, in order."""
    text = (ROOT / "docs" / "contributing.md").read_text(encoding="utf-8")
    table = text.partition(MAP_HEADING)[2].split("\n\n")[1]
    rows = []
    for line in table.splitlines()[2:]:
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        name = cells[0].strip("`").rstrip("/")
        imports = set(re.findall(r"`([\w]+)/?`", cells[-1]))
        rows.append((name, imports))
    return rows


def test_the_layer_map_lists_every_room_with_what_it_imports() -> None:
    documented = dict(documented_map())
    actual = room_graph()
    assert set(documented) == set(actual)
    wrong = {name: (documented[name], actual[name]) for name in actual
             if documented[name] != actual[name]}  # fmt: skip
    assert wrong == {}, "room: (the map says, the code imports)"


def test_imports_point_down_the_map() -> None:
    seen: set[str] = set()
    for name, imports in documented_map():
        assert imports <= seen, f"{name} imports {imports - seen}, not above it in the map"
        seen.add(name)


def test_the_map_is_read() -> None:
    rows = dict(documented_map())
    assert rows["config"] == set()
    assert {"api", "ui", "run", "display", "prompt", "ledger", "emulator", "session"} <= set(rows)
