"""The docs hold together: every markdown link and anchor resolves, and every section a message names exists."""

import ast
import re

from helpers import ROOT

PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def _headings(path):
    """A page's headings, outside code blocks."""
    text = re.sub(r"```.*?```", "", path.read_text(), flags=re.S)
    return [re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", h).strip() for h in re.findall(r"^#{1,6} (.*)$", text, re.M)]


def _sections(path):
    """What a message may name: a heading, or a paragraph's italic title (docs/sql.md's `*Features are numbers.*`)."""
    return _headings(path) + re.findall(r"^\*([^*\n]+)\.\*", path.read_text(), re.M)


def _anchors(path):
    """GitHub's anchors: lowercase, punctuation but hyphens left out, spaces to hyphens, -1, -2 for repeats."""
    anchors, seen = set(), {}
    for heading in _headings(path):
        anchor = re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-")
        n = seen.get(anchor, 0)
        seen[anchor] = n + 1
        anchors.add(anchor if n == 0 else f"{anchor}-{n}")
    return anchors


def test_every_link_and_anchor_in_the_docs_resolves():
    broken = []
    for page in PAGES:
        text = re.sub(r"```.*?```", "", page.read_text(), flags=re.S)
        for target in re.findall(r"\]\(([^)\s]+)\)", text):
            if re.match(r"[a-z]+:", target):
                continue
            path, _, fragment = target.partition("#")
            dest = (page.parent / path).resolve() if path else page
            if not dest.exists():
                broken.append(f"{page.name}: {target} (no such file)")
            elif fragment and dest.suffix == ".md" and fragment not in _anchors(dest):
                broken.append(f"{page.name}: {target} (no such heading)")
    assert not broken, broken


def test_every_section_a_message_names_exists():
    """A hint's "(README, 'Installing into an existing server')" or "(docs/sql.md, 'On a standby')" names a
    heading of that page (its beginning), in the Python package and the PL/Python bodies alike. The bodies'
    hints live in the database, changed only by a migration: the README keeps the short section they name."""
    named = re.compile(r"\b(README|docs/[\w-]+\.md), ['\"]([^'\"\n]+)['\"]")
    missing = []
    sources = [*(ROOT / "py_src" / "pgscore").rglob("*.py"), *(ROOT / "plpython").glob("*.py"),
               *(ROOT / "sql").rglob("*.sql")]
    assert len(sources) > 40, sources
    for source in sources:
        for page, title in set(named.findall(_message_text(source))):
            path = ROOT / ("README.md" if page == "README" else page)
            if not path.exists() or not any(h.strip("`").startswith(title) for h in _sections(path)):
                missing.append(f"{source.relative_to(ROOT)}: ({page}, '{title}')")
    assert not missing, missing


def _message_text(path):
    """What a file's messages say: a Python file's strings as Python joins them (a hint split over two literals,
    "(docs/operations.md, " then "'Installing ...')", went unread when the file's text was searched), an
    f-string's values left out; an SQL file's text with its literals' doubled quotes as one."""
    if path.suffix == ".sql":
        return path.read_text().replace("''", "'")
    parts = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.JoinedStr):
            parts.append("".join(v.value if isinstance(v, ast.Constant) else "{}" for v in node.values))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            parts.append(node.value)
    return "\n".join(parts)


def test_the_examples_that_show_predict_batchs_rows_order_them():
    """predict_batch returns its rows in no particular order: an example that shows them (SELECT * FROM it) orders
    them, and docs/sql.md says so (README's and docs/sql.md's examples showed them unordered, saying nothing)."""
    unordered = []
    for page in PAGES:
        for m in re.finditer(r"^SELECT \* FROM pgscore\.predict_batch\(.*$", page.read_text(), re.M):
            if "ORDER BY" not in m.group(0):
                unordered.append(f"{page.relative_to(ROOT)}: {m.group(0)}")
    assert not unordered, unordered
    assert "The rows come in no particular order" in (ROOT / "docs" / "sql.md").read_text()



def test_no_table_is_cut_in_two_by_a_blank_line():
    """A blank line between two rows of a markdown table ends it: the rows after it render as a paragraph of pipes
    (docs/sql.md's Tables lost pgscore.shadows and every row after it so, migration 0121's docs). A row after a
    blank line must begin a table of its own (its header's separator next)."""
    cut = []
    for page in PAGES:
        lines = re.sub(r"```.*?```", "", page.read_text(), flags=re.S).split("\n")
        for i in range(1, len(lines) - 2):
            if (lines[i].strip() == "" and lines[i - 1].startswith("|") and lines[i + 1].startswith("|")
                    and not re.match(r"^\|\s*:?-{3,}", lines[i + 2])):
                cut.append(f"{page.name}: {lines[i + 1][:60]}")
    assert not cut, cut


def test_every_alembic_operation_the_docs_name_exists():
    """"alembic's `activate_model`" (0121's docs) named an operation pgscore.alembic_ops does not have: a revision
    makes a stored version live with pgscore.activate. Each one the docs name is pgscore's or alembic's own."""
    from alembic.runtime.migration import MigrationContext

    from pgscore import alembic_ops

    named = {n for page in PAGES for n in re.findall(r"alembic's `([a-z_]+)", page.read_text())}
    assert named and not {n for n in named if not hasattr(alembic_ops, n) and not hasattr(MigrationContext, n)}, named
