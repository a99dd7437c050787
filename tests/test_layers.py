"""The layers of ARCHITECTURE.md hold in the code: every import of every module of
portal/ (at any level, inside functions too) is read with ast and checked.

Arrows run one way, from the top down:

    adapters -> transparency -> workflow -> policy -> lifecycle -> agreements
      -> reviews -> conversations -> requests -> registry -> auth -> notify -> audit -> storage
      -> base

Adapters are the pages (every ``routes`` and ``forms`` module, portal.web,
portal.main), the API (portal.api), the command line (portal.cli and every ``cli``
module) and the jobs (portal.jobs), with portal.demo and the application factory
(portal itself). ``*.models`` modules are the data layer: anyone may import them,
and they import nothing above the base modules.

Besides the direction of every import: no routes module imports another; no
package's CLI module imports portal.cli (registering runs the other way: portal.cli
imports each package's command group); and no two packages import each other,
directly or round a longer loop.
"""

import ast
import functools
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import portal

PORTAL = Path(portal.__file__).resolve().parent

# The layers, lowest first. A module may import from its own layer and those below.
LAYERS = (
    "base",
    "data",
    "storage",
    "audit",
    "notify",
    "auth",
    "registry",
    "requests",
    "conversations",
    "reviews",
    "agreements",
    "lifecycle",
    "policy",
    "workflow",
    "transparency",
    "adapters",
)
RANK = {name: rank for rank, name in enumerate(LAYERS)}

# The modules and packages directly under portal/ that are neither adapters nor one of
# the layered packages: settings, the engine and sessions, errors, small helpers.
BASE = frozenset(
    {
        "charts",
        "config",
        "db",
        "errors",
        "i18n",
        "logs",
        "longlived",  # what a worker keeps for its life, frozen out of the collector
        "metrics",
        "migrate",
        "paths",
        "pdf",
        "translations",  # the catalogues and the build hook that compiles them
        "validation",
    }
)
PACKAGES = frozenset(LAYERS) - {"base", "data", "adapters"}
ADAPTER_PACKAGES = frozenset(
    {
        "admin",
        "api",
        "backup",  # the operator's backup and restore commands and the work behind them
        "cli",
        "clitools",
        "datasets",  # the datasets' pages and the Nations' labels on them
        "demo",
        "gunicorn_conf",
        "jobs",
        "main",
        "ops",
        "outputs",  # the pages of outputs before publication (portal/lifecycle/outputs/)
        "proposals",
        "rules",
        "throttle",
        "web",
        "webforms",  # the base of the pages' forms
    }
)
ADAPTER_MODULES = frozenset({"routes", "forms", "cli"})  # portal.<package>.<this>
PAGES = frozenset({"routes", "forms"})


@dataclass(frozen=True)
class Import:
    importer: str
    imported: str
    line: int


def module_name(path: Path) -> str:
    parts = path.relative_to(PORTAL.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def portal_modules() -> dict[str, Path]:
    return {
        module_name(path): path
        for path in sorted(PORTAL.rglob("*.py"))
        if "_bundled" not in path.relative_to(PORTAL).parts
    }


def imports_of(name: str, source: str, is_package: bool, known: set[str]) -> list[Import]:
    """Every import of a portal module in ``source``, wherever it stands. ``from X import
    y`` imports the module X.y when there is one, else X."""
    package = name if is_package else name.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                parts = parts[: len(parts) - node.level + 1]
                base = ".".join([*parts, base] if base else parts)
            targets = [
                f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base
                for alias in node.names
            ]
        else:
            continue
        for target in dict.fromkeys(targets):  # once per statement, in order
            if target == "portal" or target.startswith("portal."):
                found.append(Import(name, target, node.lineno))
    return sorted(found, key=lambda found: found.line)


@functools.cache
def all_imports() -> tuple[Import, ...]:
    modules = portal_modules()
    known = set(modules)
    found = []
    for name, path in modules.items():
        source = path.read_text(encoding="utf-8")
        found += imports_of(name, source, path.name == "__init__.py", known)
    return tuple(found)


def layer(module: str) -> str | None:
    """The layer of a portal module, or None when no rule places it."""
    parts = module.split(".")
    if module == "portal":  # the application factory: it registers every adapter
        return "adapters"
    top, last = parts[1], parts[-1]
    # Wherever it stands (portal.jobs.models too), and a package's second set of tables
    # (portal.lifecycle.attestation_models): the data layer.
    if last == "models" or last.endswith("_models"):
        return "data"
    if top in ADAPTER_PACKAGES or (len(parts) == 3 and last in ADAPTER_MODULES):
        return "adapters"
    if top in PACKAGES:
        return top
    if top in BASE:
        return "base"
    return None


def is_routes(module: str) -> bool:
    return module.endswith(".routes")


def is_package_cli(module: str) -> bool:
    return module.endswith(".cli") and module != "portal.cli"


def unit(module: str) -> str:
    """What the cycle check calls a package: adapters go by what they adapt to (the pages,
    the API, the CLI, the jobs), data modules by their own name, the rest by folder."""
    parts = module.split(".")
    if module == "portal":
        return "the application factory (portal)"
    top, last = parts[1], parts[-1]
    if top in ("web", "main") or (len(parts) == 3 and last in PAGES):
        return "pages"
    if module == "portal.cli" or is_package_cli(module):
        return "cli"
    if last == "models" or last.endswith("_models"):
        return ".".join(parts[1:])
    return top


def describe(found: Import, why: str = "") -> str:
    text = (
        f"{found.importer} ({layer(found.importer)}) imports {found.imported} "
        f"({layer(found.imported)}) at line {found.line}"
    )
    return f"{text}: {why}" if why else text


def fail_with(title: str, problems: list[str]) -> None:
    assert not problems, f"{title} ({len(problems)}):\n  " + "\n  ".join(problems)


def test_the_scanner_reads_imports_at_every_level():
    source = (
        "import os\n"
        "from portal.db import get_session\n"
        "def late():\n"
        "    from portal import workflow\n"
        "    import portal.policy.service\n"
        "class Late:\n"
        "    def method(self):\n"
        "        from .models import Nation\n"
        "        from . import service\n"
    )
    known = {"portal.db", "portal.workflow", "portal.registry.models", "portal.registry.service"}
    found = imports_of("portal.registry.profile", source, False, known)
    assert [(i.imported, i.line) for i in found] == [
        ("portal.db", 2),
        ("portal.workflow", 4),
        ("portal.policy.service", 5),
        ("portal.registry.models", 8),
        ("portal.registry.service", 9),
    ]


def test_the_scan_sees_the_whole_package():
    modules = portal_modules()
    assert {"portal", "portal.cli", "portal.workflow.perform", "portal.audit.chain"} <= set(modules)
    imports = {(i.importer, i.imported) for i in all_imports()}
    # Inside create_app(): found although it is not at module level.
    assert ("portal", "portal.cli") in imports


def test_the_layer_rules():
    assert {
        name: layer(name)
        for name in (
            "portal",
            "portal.web",
            "portal.main.routes",
            "portal.requests.routes",
            "portal.reviews.forms",
            "portal.policy.cli",
            "portal.api.represent",
            "portal.jobs.expiry",
            "portal.jobs.models",
            "portal.transparency.overview",
            "portal.workflow.perform",
            "portal.requests.models",
            "portal.models",
            "portal.audit.chain",
            "portal.db",
        )
    } == {
        "portal": "adapters",
        "portal.web": "adapters",
        "portal.main.routes": "adapters",
        "portal.requests.routes": "adapters",
        "portal.reviews.forms": "adapters",
        "portal.policy.cli": "adapters",
        "portal.api.represent": "adapters",
        "portal.jobs.expiry": "adapters",
        "portal.jobs.models": "data",
        "portal.transparency.overview": "transparency",
        "portal.workflow.perform": "workflow",
        "portal.requests.models": "data",
        "portal.models": "data",
        "portal.audit.chain": "audit",
        "portal.db": "base",
    }
    assert unit("portal.requests.routes") == unit("portal.web") == "pages"
    assert unit("portal.policy.cli") == unit("portal.cli") == "cli"
    assert unit("portal.policy.service") == "policy"


def test_every_module_has_a_layer():
    unplaced = [name for name in portal_modules() if layer(name) is None]
    fail_with(
        "Modules no layer rule places (add them to BASE or a package in tests/test_layers.py, "
        "and to ARCHITECTURE.md)",
        unplaced,
    )


def test_no_import_goes_up_a_layer():
    problems = []
    for found in all_imports():
        low, high = layer(found.importer), layer(found.imported)
        if low is None or high is None or high == "data":  # data: importable from anywhere
            continue
        if RANK[high] > RANK[low]:
            problems.append(describe(found, "a lower layer imports a higher one"))
    fail_with("Imports that go up a layer", problems)


def test_no_routes_module_imports_another():
    problems = [
        describe(found, "pages share helpers through portal.web, not through each other")
        for found in all_imports()
        if is_routes(found.importer) and is_routes(found.imported)
        if found.importer != found.imported
    ]
    fail_with("Routes modules importing other routes modules", problems)


def test_cli_modules_do_not_import_portal_cli():
    """portal.cli registers each package's command group (register_commands imports
    them); a package's cli module never imports portal.cli back, not even a helper."""
    problems = [
        describe(found, "portal.cli imports the package's CLI to register it, not the reverse")
        for found in all_imports()
        if is_package_cli(found.importer) and found.imported == "portal.cli"
    ]
    fail_with("CLI modules importing portal.cli", problems)


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one package (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in sorted(edges.get(node, ())):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                components.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return components


def test_no_import_cycle_between_packages():
    edges: dict[str, set[str]] = defaultdict(set)
    between: dict[tuple[str, str], list[Import]] = defaultdict(list)
    for found in all_imports():
        source, target = unit(found.importer), unit(found.imported)
        if source != target:
            edges[source].add(target)
            between[source, target].append(found)
    problems = []
    for component in _cycles(edges):
        members = set(component)
        links = [
            describe(found)
            for (source, target), imports in sorted(between.items())
            if source in members and target in members
            for found in imports
        ]
        problems.append(f"{' <-> '.join(component)}, through:\n    " + "\n    ".join(sorted(links)))
    fail_with("Packages that import each other", problems)
