"""The shape of the source tree: no import cycles, no private names across files, copies in sync.

The layer contract itself (which package may import which) is import-linter's, in
pyproject.toml; the test command runs ``lint-imports``. These checks read the source with
``ast`` and need nothing else.
"""

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src"
PACKAGE = SRC / "kerasformers"


def module_name(path: Path) -> str:
    parts = path.relative_to(SRC).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(path): path for path in PACKAGE.rglob("*.py")}


def top_level_imports(path: Path, name: str) -> set[str]:
    """Modules imported when ``name`` is imported: its module-level statements, not function bodies."""
    is_package = path.name == "__init__.py"
    found = set()
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against this module's package
                base = name.split(".")
                base = base[: len(base) - node.level + (1 if is_package else 0)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module
            found.add(target)
            found.update(f"{target}.{alias.name}" for alias in node.names)
    return found


def import_graph() -> dict[str, set[str]]:
    known = modules()
    graph = {}
    for name, path in known.items():
        targets = set()
        for target in top_level_imports(path, name):
            # `import a.b.c` also imports a and a.b: keep the deepest module that exists
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target and target != name and not name.startswith(target + "."):
                targets.add(target)  # a module importing its own package is not a cycle we care about
        graph[name] = targets
    return graph


def strongly_connected_components(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's algorithm, iterative-free for our small graph."""
    index, low, stack, on_stack, components = {}, {}, [], set(), []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            components.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return components


def test_no_import_cycles_in_src():
    cycles = [c for c in strongly_connected_components(import_graph()) if len(c) > 1]
    assert cycles == [], f"module-level import cycles: {cycles}"


def test_the_cycle_check_sees_a_cycle():
    assert strongly_connected_components({"a": {"b"}, "b": {"a"}, "c": {"a"}}) == [["a", "b"], ["c"]]


def test_no_private_names_cross_modules():
    """`from kerasformers.x import _helper` never appears: what another file needs is public there."""
    offenders = []
    for name, path in modules().items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("kerasformers"):
                private = [a.name for a in node.names if a.name.startswith("_") and not a.name.startswith("__")]
                if private and node.module != name:
                    offenders.append(f"{name} imports {private} from {node.module}")
    assert offenders == []


def test_copies_have_not_drifted():
    """Code marked "Copied from kerasformers.x.y.Name" still equals its original (scripts/check_copies.py)."""
    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "check_copies.py")], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "copies checked" in result.stdout


def test_model_files_use_our_dropout():
    """Model files build kerasformers.layers.dropout.Dropout: keras.layers.Dropout's masks compile
    into a slow random kernel under XLA on CPU (see layers/dropout.py)."""
    offenders = []
    for path in (PACKAGE / "models").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and node.attr == "Dropout" and ast.unparse(node.value) == "keras.layers":
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert offenders == []


def test_the_copy_check_sees_a_drifted_method(tmp_path):
    """A `Class.method` mark is compared with that method: an edited copy is reported, a true one is not."""
    sys.path.insert(0, str(ROOT / "scripts"))
    from check_copies import check, original

    source = original("kerasformers.models.bart.modeling_bart.BartAttention.heads")
    assert source and source.lstrip().startswith("def heads")
    mark = "class Copy:\n    # Copied from kerasformers.models.bart.modeling_bart.BartAttention.heads\n"
    body = "    " + source + "\n"  # the segment's later lines keep the method's own indentation
    same, drifted = tmp_path / "same.py", tmp_path / "drifted.py"
    same.write_text(mark + body)
    drifted.write_text(mark + body.replace("def heads(self, x):", "def heads(self, x):  # edited"))
    assert check(same) == (1, [])
    count, problems = check(drifted)
    assert count == 1 and len(problems) == 1 and "differs" in problems[0]
