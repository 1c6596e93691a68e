"""The guide's contracts on where code lives, read from the files: every PL/Python body is a shim into
pgscore.pl that sql/ inlines, and nothing under py_src imports plpy (it is passed in)."""

import ast
from pathlib import Path

from pgscore import pl
from pgscore.schema import _PLPYTHON as BODY  # how sql/ names the body it inlines

ROOT = Path(__file__).resolve().parents[1]
LOGIC = (ast.For, ast.While, ast.With, ast.FunctionDef, ast.Lambda, ast.ClassDef, ast.ListComp, ast.SetComp,
         ast.DictComp, ast.GeneratorExp)


def test_nothing_under_py_src_imports_plpy():
    for path in sorted((ROOT / "py_src").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            else:
                continue
            assert all(n.split(".")[0] != "plpy" for n in names), \
                f"{path.relative_to(ROOT)}:{node.lineno} imports plpy: take it as an argument"


def test_every_plpython_body_is_a_shim_into_pgscore_pl_that_sql_uses():
    bodies = sorted((ROOT / "plpython").glob("*.py"))
    used = {m for f in (ROOT / "sql").rglob("*.sql") for m in BODY.findall(f.read_text())}
    assert used == {f"plpython/{p.name}" for p in bodies}, "a body no sql/ file inlines, or one that is missing"
    for path in bodies:
        tree = ast.parse(path.read_text(), str(path))
        froms = [(n.module, a.name) for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) for a in n.names]
        assert len(froms) == 1 and froms[0][0] == "pgscore.pl", f"{path.name}: imports {froms}"
        assert callable(getattr(pl, froms[0][1], None)), f"{path.name}: pgscore.pl has no {froms[0][1]}"
        assert not [n for n in ast.walk(tree) if isinstance(n, LOGIC)], f"{path.name} does work of its own"
        assert isinstance(tree.body[-1], ast.Return) and isinstance(tree.body[-1].value, ast.Call), \
            f"{path.name} does not end by returning the call into pgscore.pl"
