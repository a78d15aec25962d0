"""No import circles inside the project's packages: every import counts, those inside functions too."""
import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("runstore", "imagesets", "readout", "bio", "networks", "analysis", "benchmarks")
# Floors, bottom first: a module imports only from its own floor or those below (no arrow back up).
FLOORS = {"runstore": 0, "imagesets": 1, "readout": 1, "bio": 2, "networks": 3, "analysis": 4, "benchmarks": 5}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for pkg in PACKAGES for p in sorted((ROOT / pkg).rglob("*.py"))}


def imported(path: Path, name: str, known: set[str]) -> set[str]:
    """The project modules ``path`` (module ``name``) imports, anywhere in the file. ``from A import b``
    names the module A.b when there is one, else A. Importing A.b also runs the package A's ``__init__``,
    which can close a circle of its own, so A counts too, unless A holds ``name`` (then A is already
    being imported when ``name`` runs)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:   # relative: from . import x, from ..a import b
                anchor = package.split(".")[:len(package.split(".")) - (node.level - 1)]
                base = ".".join(anchor + ([base] if base else []))
            subs = {f"{base}.{a.name}" for a in node.names} & known
            out.update(subs)
            if len(subs) < len(node.names):   # some names are attributes of the module itself
                out.add(base)
    out |= {".".join(m.split(".")[:k]) for m in out for k in range(1, m.count(".") + 1)}
    own = {".".join(name.split(".")[:k]) for k in range(1, name.count(".") + 1)}
    return {m for m in out - own if m in known and m != name}


def import_graph() -> dict[str, set[str]]:
    mods = modules()
    return {name: imported(path, name, set(mods)) for name, path in mods.items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import circle as a list of modules (the first repeated at the end), or None."""
    state, stack = {}, []

    def visit(m):
        state[m] = "open"
        stack.append(m)
        for n in sorted(graph[m]):
            if state.get(n) == "open":
                return stack[stack.index(n):] + [n]
            if n not in state:
                found = visit(n)
                if found:
                    return found
        stack.pop()
        state[m] = "done"
        return None

    for m in sorted(graph):
        if m not in state:
            found = visit(m)
            if found:
                return found
    return None


def test_the_graph_sees_imports_inside_functions():
    graph = import_graph()
    assert "analysis.figures" in graph and "bio.network" in graph
    # imported only inside functions: analysis.attack's figures, the figures damping and the sweeps draw
    assert "analysis.attack_figures" in graph["analysis.attack"]
    assert "analysis.damping_figures" in graph["analysis.damping"]
    assert "analysis.sweep_figures" in graph["analysis.sweep_points"]
    assert "analysis.attacks" in graph["analysis.metrics"]   # from analysis.attacks.base import: runs its __init__
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_no_import_circle_in_the_project():
    cycle = find_cycle(import_graph())
    assert cycle is None, "import circle: " + " -> ".join(cycle)


def third_party(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_figure_modules_read_saved_results_only():
    """The figure families and the report import no computing module (no torch, no Brian2, no attacks)."""
    graph, mods = import_graph(), modules()
    allowed = {"analysis.plotting", "analysis.defaults", "analysis.saved_results", "analysis.damping_figures",
               "analysis.sweep_figures", "analysis.compare_figures", "analysis.attack_figures", "analysis.report",
               "analysis.seed_claims", "analysis.verdicts", "analysis.weight_figures", "analysis.captions", "bio",
               "runstore", "runstore.files", "runstore.cli", "bio.figures",   # bio, runstore: docstring-only __init__s
               "analysis.effects", "analysis.sweep_effects", "analysis.sweep_claims", "analysis.sweep_report",
               "analysis.forest_figure", "analysis.provenance_table", "runstore.provenance", "analysis.damping_seeds",
               "analysis.damping_claims", "analysis.size_series"}
    for name in ("analysis.damping_figures", "analysis.sweep_figures", "analysis.compare_figures",
                 "analysis.weight_figures", "analysis.captions", "analysis.report", "analysis.seed_claims", "analysis.verdicts",
                 "analysis.figures", "analysis.saved_results", "analysis.defaults", "analysis.effects",
                 "analysis.sweep_effects", "analysis.sweep_claims", "analysis.sweep_report", "analysis.forest_figure",
                 "analysis.provenance_table", "analysis.damping_seeds", "analysis.damping_claims",
                 "analysis.size_series"):
        assert graph[name] <= allowed, f"{name} imports {sorted(graph[name] - allowed)}"
        assert not third_party(mods[name]) & {"torch", "brian2", "imagesets", "networks", "readout"}, name


def reaches(graph: dict[str, set[str]], start: str) -> set[str]:
    seen, todo = set(), [start]
    while todo:
        for n in graph[todo.pop()] - seen:
            seen.add(n)
            todo.append(n)
    return seen


def test_one_measurement_engine():
    """compare, damping and both sweeps measure through analysis.measurement and do none of its work
    themselves (no attacks crafted, no robustness numbers computed); the engine depends on none of them."""
    graph = import_graph()
    callers = ("analysis.compare", "analysis.damping", "analysis.leak_sweep", "analysis.timestep_sweep",
               "analysis.transfer_matrix")
    for name in callers:
        assert "analysis.measurement" in reaches(graph, name), name
        own_work = graph[name] & {"analysis.metrics", "analysis.attack", "analysis.attacks.base"}
        assert not own_work, f"{name} imports {sorted(own_work)}"
    assert not reaches(graph, "analysis.measurement") & {*callers, "analysis.attack"}


def test_runstore_is_the_bottom_floor():
    """runstore (storage, locks, the CLI's errors) imports no other package of the project, so every
    package can import it without an arrow back up."""
    project = ("analysis", "bio", "networks", "readout", "imagesets", "benchmarks")
    for path in sorted((ROOT / "runstore").glob("*.py")):
        assert not {m.split(".")[0] for m in third_party(path)} & set(project), path.name


def test_no_package_imports_one_above_it():
    graph = import_graph()
    up = sorted(f"{m} -> {n}" for m, deps in graph.items() for n in deps
                if FLOORS[n.split(".")[0]] > FLOORS[m.split(".")[0]])
    assert not up, "imports from a floor above: " + ", ".join(up)



def test_no_module_over_400_lines_without_a_reason():
    """A module over ~400 lines says in its docstring why it is one module (issue 26)."""
    for name, path in modules().items():
        text = path.read_text()
        if text.count("\n") > 420:
            doc = ast.get_docstring(ast.parse(text)) or ""
            assert "one module" in doc.lower(), f"{name}: {text.count(chr(10))} lines and no reason in its docstring"
