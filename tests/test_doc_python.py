"""The ```python blocks of the docs (README.md, docs/*.md) run, as written, against a database of the test cluster
(test_doc_examples.py runs the ```sql ones). Each block is one of:

- the guide's "From application code" snippets, one per driver (psycopg 3, asyncpg, SQLAlchemy, psycopg2, every
  one installed in the .venv): tests/test_drivers.py runs them, given the connection the line before each names
  (`conn`, `con`, `c`, `cur`, opened on the test database's URL) and the `row`, `key`, `doc` and `events` they
  use; here, that it finds every one of them;
- an alembic revision of docs/alembic.md: run here in the docs' example project (docs/examples/alembic_deploy,
  copied out, its model trained by its make_models.py) with `alembic -x db_url=<the test database's URL>`, as
  the page's `alembic -x db_url=postgresql://... upgrade head` does. Two substitutions, both named by the page:
  the pinned hash `"9f2c..."` becomes the artifact's `sha256sum` (what its comment says to write), and a block
  that gives a revision's `upgrade()`/`downgrade()` only (no `revision = ` of its own) is run as revision `a2`
  after the first (`revision = "a2"`, `down_revision = "a1"` put before it);
- marked ```python no-run in the docs, with its reason in a comment on its first line (a fragment of a file
  that is not whole: env.py's `context.configure` call). Only those are left out.

A block that is none of these fails the test; so does one that raises, or an upgrade or downgrade that fails."""

import re
import subprocess
import sys
from pathlib import Path

from helpers import ROOT, query
from test_alembic_ops import make_example
from test_drivers import snippets

FENCE = re.compile(r"^( *)```python([^\n]*)\n(.*?)^ *```", re.M | re.S)
SHA256_PLACEHOLDER = '"9f2c..."'


def python_blocks():
    """(page, line, info after `python`, text) of each ```python block of README.md and docs/*.md."""
    for path in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        text = path.read_text()
        for m in FENCE.finditer(text):
            yield (str(path.relative_to(ROOT)), text[:m.start()].count("\n") + 1, m.group(2).strip(),
                   m.group(3))


def _application_code_lines():
    """The lines of docs/guide.md's section "From application code" (the blocks tests/test_drivers.py runs)."""
    text = (ROOT / "docs" / "guide.md").read_text()
    start = text.index("## From application code")
    end = text.index("\n## ", start + 1)
    return range(text[:start].count("\n") + 1, text[:end].count("\n") + 1)


def _kind(page, line, info, text):
    if info == "no-run":
        return "no-run"
    if page == "docs/guide.md" and line in _application_code_lines():
        return "drivers"
    if page == "docs/alembic.md" and "from pgscore.alembic_ops import" in text and "def upgrade():" in text:
        return "revision"
    return None


def test_every_python_block_is_run_or_marked_no_run():
    blocks = list(python_blocks())
    kinds = {(page, line): _kind(page, line, info, text) for page, line, info, text in blocks}
    assert not [k for k, v in kinds.items() if v is None], f"neither run nor marked ```python no-run: {kinds}"
    # the guide's five drivers' blocks (pandas since session 65), every one found by the test that runs them
    drivers = [text for page, line, info, text in blocks if kinds[page, line] == "drivers"]
    assert sorted(drivers) == sorted(snippets().values()) and len(drivers) == 5, drivers
    assert sum(v == "revision" for v in kinds.values()) == 4, kinds  # a1, the retire; m2 and m3 (shadow, promote)
    unmarked = [(page, line) for page, line, info, text in blocks
                if info == "no-run" and not text.lstrip().startswith("#")]
    assert not unmarked, f"a ```python no-run block says why in a comment on its first line: {unmarked}"


def _alembic(example, url, *args):
    exe = Path(sys.executable).with_name("alembic")
    return subprocess.run([str(exe), "-c", str(example / "alembic.ini"), "-x", f"db_url={url}", *args],
                          capture_output=True, text=True, timeout=300)


def _deployments(db_url):
    return query(db_url, "SELECT m.version, d.action, d.reason FROM pgscore.deployments d JOIN pgscore.models m "
                         "ON m.model_id = d.model_id WHERE d.model_name = 'churn' ORDER BY d.deployment_id")


def test_the_alembic_revisions_of_the_docs_run(db_url, tmp_path):
    """docs/alembic.md's revision a1 (deploy_model) and the retiring one, as revision a2, upgraded and downgraded."""
    example, *_ = make_example(tmp_path, 200, seed=31)
    revisions = [text for page, line, info, text in python_blocks() if _kind(page, line, info, text) == "revision"]
    a1, = [t for t in revisions if t.startswith("# versions/a1_")]
    retire, = [t for t in revisions if "revision = " not in t.replace("revision=revision", "")]
    assert SHA256_PLACEHOLDER in a1 and a1.startswith("# versions/a1_churn_v1.py\n"), a1
    sha = (example / "models" / "churn-1.joblib.sha256").read_text().split()[0]
    (example / "versions" / "a1_churn_v1.py").write_text(a1.replace(SHA256_PLACEHOLDER, f'"{sha}"'))
    assert "revision = " not in retire.replace("revision=revision", ""), retire
    (example / "versions" / "a2_retire.py").write_text('revision = "a2"\ndown_revision = "a1"\n' + retire)

    run = _alembic(example, db_url, "upgrade", "a1")
    assert run.returncode == 0, run.stderr
    assert _deployments(db_url) == [(1, "deploy", "alembic revision a1")]
    run = _alembic(example, db_url, "upgrade", "head")
    assert run.returncode == 0, run.stderr
    assert _deployments(db_url)[-1] == (1, "retire", "alembic revision a2")
    assert query(db_url, "SELECT count(*) FROM pgscore.live_models WHERE name = 'churn'") == [(0,)]
    run = _alembic(example, db_url, "downgrade", "a1")
    assert run.returncode == 0, run.stderr
    assert _deployments(db_url) == [(1, "deploy", "alembic revision a1"), (1, "retire", "alembic revision a2"),
                                     (1, "rollback", "alembic downgrade a2")]
    assert query(db_url, "SELECT version FROM pgscore.live_models WHERE name = 'churn'") == [(1,)]
    run = _alembic(example, db_url, "downgrade", "base")
    assert run.returncode == 0, run.stderr
    assert query(db_url, "SELECT count(*) FROM pgscore.live_models WHERE name = 'churn'") == [(0,)]


def test_the_shadow_then_promote_revisions_of_the_docs_run(db_url, tmp_path):
    """docs/alembic.md's *Shadow, then promote*: its m2 (deploy_model(activate=False, shadow=True)) and m3
    (promote_model) run after the page's a1, as written but for what the page leaves to the reader: m2's
    down_revision names a1 (the page's m1), MODELS is the project's models/ directory, and the pinned hash is the
    artifact's (its v2 here a copy of the example's model, and of its training CSV). Upgraded, downgraded twice and
    upgraded again, each step leaves the state the page's table says."""
    example, *_ = make_example(tmp_path, 200, seed=35)
    revisions = [text for page, line, info, text in python_blocks() if _kind(page, line, info, text) == "revision"]
    a1 = revisions[0]
    m2, = [t for t in revisions if t.startswith("# versions/m2_")]
    m3, = [t for t in revisions if t.startswith("# versions/m3_")]
    models = example / "models"
    sha = (models / "churn-1.joblib.sha256").read_text().split()[0]
    (models / "churn-2.joblib").write_bytes((models / "churn-1.joblib").read_bytes())
    (models / "churn-2-train.csv").write_text((models / "churn-train.csv").read_text())
    (example / "versions" / "a1_churn_v1.py").write_text(a1.replace(SHA256_PLACEHOLDER, f'"{sha}"'))
    assert 'down_revision = "m1"' in m2 and '"92d8..."' in m2, m2
    (example / "versions" / "m2.py").write_text(
        f"from pathlib import Path\nMODELS = Path({str(models)!r})\n"
        + m2.replace('down_revision = "m1"', 'down_revision = "a1"').replace('"92d8..."', f'"{sha}"'))
    (example / "versions" / "m3.py").write_text(m3)

    def state():
        return query(db_url, "SELECT version, live, shadow FROM pgscore.model_versions WHERE name = 'churn' "
                             "AND (live OR shadow) ORDER BY version")

    for _ in range(2):
        run = _alembic(example, db_url, "upgrade", "m2")
        assert run.returncode == 0, run.stderr
        v1, v2 = [v for v, in query(db_url, "SELECT version FROM pgscore.model_versions WHERE name = 'churn' "
                                            "ORDER BY version")][-2:]
        assert state() == [(v1, True, False), (v2, False, True)]
        run = _alembic(example, db_url, "upgrade", "m3")
        assert run.returncode == 0, run.stderr
        assert f"churn version {v2}, stored by alembic revision m2, is live, promoted by alembic revision m3" \
            in run.stderr, run.stderr
        assert state() == [(v2, True, False)]
        run = _alembic(example, db_url, "downgrade", "m2")
        assert run.returncode == 0, run.stderr
        assert state() == [(v1, True, False), (v2, False, True)]
        run = _alembic(example, db_url, "downgrade", "base")
        assert run.returncode == 0, run.stderr
        assert state() == []
