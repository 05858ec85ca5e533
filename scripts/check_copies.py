#!/usr/bin/env python3
"""Check that code marked as a deliberate copy still equals its original.

A model file may copy a small block from another one on purpose, so that it reads top to bottom
on its own. Mark it on the line above the ``def`` or ``class``:

    # Copied from kerasformers.models.bert.modeling_bert.BertSelfOutput with Bert->Roberta
    # Copied from kerasformers.models.bart.modeling_bart.BartAttention.heads   (a method)

The block must equal the original after the replacements (``A->B``, several separated by
commas). Run from the repository root: ``python scripts/check_copies.py``; exit code 1 lists
the copies that drifted.
"""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
MARK = re.compile(r"^\s*# Copied from (kerasformers(?:\.\w+)+)(?: with (.+?))?(?:\s+# noqa.*)?$")


def definitions(path: Path) -> dict[str, str]:
    """Name -> source text of every def and class in ``path``: by bare name (the first one) and,
    for methods, also as ``Class.method``."""
    text = path.read_text(encoding="utf-8")
    found = {}
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            found.setdefault(node.name, ast.get_source_segment(text, node))
        if isinstance(node, ast.ClassDef):
            for member in node.body:
                if isinstance(member, ast.FunctionDef):
                    found[f"{node.name}.{member.name}"] = ast.get_source_segment(text, member)
    return found


def original(dotted: str) -> str | None:
    """The source of ``package.module.name`` or ``package.module.Class.method``."""
    parts = dotted.split(".")
    for cut in (len(parts) - 1, len(parts) - 2):
        path = SRC / ("/".join(parts[:cut]) + ".py")
        if cut > 0 and path.is_file():
            return definitions(path).get(".".join(parts[cut:]))
    return None


def check(path: Path) -> tuple[int, list[str]]:
    lines = path.read_text(encoding="utf-8").splitlines()
    here = definitions(path)
    count, problems = 0, []
    for number, line in enumerate(lines):
        match = MARK.match(line)
        if not match:
            continue
        count += 1
        follow = next((text for text in lines[number + 1 :] if text.strip()), "")
        name = re.match(r"\s*(?:def|class)\s+(\w+)", follow)
        source = original(match.group(1))
        if name is None or source is None:
            problems.append(f"{path}:{number + 1}: cannot find {match.group(1)} or the block it marks")
            continue
        for rule in (match.group(2) or "").split(","):
            if "->" in rule:
                old, new = (part.strip() for part in rule.split("->"))
                source = source.replace(old, new)
        if source != here.get(name.group(1)):
            problems.append(f"{path}:{number + 1}: {name.group(1)} differs from {match.group(1)}")
    return count, problems


def main() -> int:
    total, problems = 0, []
    for path in sorted((SRC / "kerasformers").rglob("*.py")):
        count, found = check(path)
        total += count
        problems += found
    for problem in problems:
        print(problem)
    print(f"{total} copies checked, {len(problems)} drifted")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
