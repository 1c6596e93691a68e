"""One packaging source; the image installs from it; CI runs the README's test command."""

import os
import re
import tomllib

from helpers import ROOT


def test_dockerfile_uses_bookworm_plpython_and_the_project_pins():
    text = (ROOT / "Dockerfile.postgres").read_text()
    assert re.search(r"^FROM postgres:15-bookworm\b", text, re.M)
    assert "postgresql-plpython3-${PG_MAJOR}=${PG_VERSION}" in text
    assert "/usr/bin/python3 -m venv" in text
    assert "pip install --no-cache-dir /opt/pgscore/src" in text
    # no second set of pins: every version comes from pyproject.toml
    assert not re.search(r"(scikit-learn|numpy|joblib|scipy)==", text)
    assert "PYTHONPATH=/opt/pgscore/venv/lib/python3.11/site-packages" in text
    assert "OMP_NUM_THREADS=1" in text


def test_the_image_reaches_its_own_server_and_every_place_names_the_same_thread_settings():
    """`docker exec pgscore pgscore deploy ...` had no database (no --db, no PGSCORE_DATABASE_URL) and looked
    for the embedded cluster; and the thread variables of pgscore's hint (what db start gives its cluster),
    the README's and the image's differed (the README's server environment now lives in docs/operations.md)."""
    from pgscore.localdb import SERVER_THREAD_ENV

    docker = (ROOT / "Dockerfile.postgres").read_text()
    env = docker.split("\nENV ", 1)[1]
    assert 'PGSCORE_DATABASE_URL="postgresql://postgres@/postgres?host=/var/run/postgresql"' in env
    operations = (ROOT / "docs" / "operations.md").read_text()
    environment_file = operations.split("/etc/postgresql/15/main/environment", 1)[1].split("```", 2)[1]
    pg_ctl = operations.split("su postgres -c '", 1)[1].split("'", 1)[0]
    assert "pg_ctl -D DIR -l LOGFILE start" in pg_ctl
    threads = set(SERVER_THREAD_ENV)
    assert set(re.findall(r"^\s*(\w+_THREADS)=1\b", env, re.M)) == threads
    assert set(re.findall(r"^\s*(\w+_THREADS) = '1'$", environment_file, re.M)) == threads
    assert set(re.findall(r"(\w+_THREADS)=1\b", pg_ctl)) == threads


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    commands = re.findall(r"^(scripts/run \w+)", readme, re.M)
    assert commands[:2] == ["scripts/run demo", "scripts/run test"]
    ci = (ROOT / ".ci" / "run").read_text()
    assert re.search(r"^exec scripts/run test$", ci, re.M)


def test_console_script_and_python_floor():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    # (pgscore.console counts pgscore score's signals from its first line, then calls pgscore.cli.console: session 67)
    assert project["scripts"]["pgscore"] == "pgscore.console:console"
    assert project["requires-python"] == ">=3.11"


def test_python_m_pgscore_runs_the_pgscore_command():
    """`python -m pgscore --version` said `No module named pgscore.__main__` (review r1 of session 67): it runs the
    command as its console script does."""
    import subprocess
    import sys

    run = subprocess.run([sys.executable, "-m", "pgscore", "--version"], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0 and run.stdout.startswith("pgscore "), run.stdout + run.stderr


def test_importing_the_console_module_changes_no_signal_handler():
    """pgscore.console replaced SIGINT's and SIGTERM's handlers at its import wherever `score` was among the
    process's arguments (review r1 of session 67): a wrapper importing it, then calling pgscore.cli.main(...) itself,
    had its Ctrl-C and SIGTERM counted and dropped from then on. Only its console() counts them."""
    import subprocess
    import sys

    code = ("import signal, sys\n"
            "before = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}\n"
            "import pgscore.console\n"
            "after = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}\n"
            "print(before == after)\n")
    run = subprocess.run([sys.executable, "-c", code, "score"], capture_output=True, text=True, timeout=120)
    assert (run.returncode, run.stdout) == (0, "True\n"), run.stdout + run.stderr


def _dockerfile_instructions():
    """(instruction, arguments) of Dockerfile.postgres, its continued lines joined and its comments left out."""
    lines = [line for line in (ROOT / "Dockerfile.postgres").read_text().splitlines()
             if not line.lstrip().startswith("#")]
    joined = re.sub(r"\\\n", " ", "\n".join(lines))
    return [tuple(line.strip().split(None, 1)) for line in joined.splitlines() if line.strip()]


def test_the_image_copies_files_that_exist_and_builds_from_all_that_pip_needs():
    """Every COPY source exists in the checkout and is not left out of the build context by .dockerignore
    (`docker build` would fail, or install a pgscore without its migrations); and what pyproject.toml builds
    the package from (the readme, each package directory) is among them."""
    import fnmatch

    ignored = [p.strip().rstrip("/") for p in (ROOT / ".dockerignore").read_text().splitlines()
               if p.strip() and not p.lstrip().startswith("#")]
    copied = []
    for instruction, args in _dockerfile_instructions():
        if instruction.upper() == "COPY":
            words = [w for w in args.split() if not w.startswith("--")]
            assert len(words) >= 2, args
            for source in words[:-1]:
                assert (ROOT / source).exists(), f"Dockerfile.postgres copies {source}, which is not in the checkout"
                assert not any(fnmatch.fnmatch(source, p) or fnmatch.fnmatch(source, p.removeprefix("**/"))
                               for p in ignored), f".dockerignore leaves {source} out of the build context"
                copied.append(source.rstrip("/"))
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    needed = {"pyproject.toml", "setup.py", project["project"]["readme"],
              *project["tool"]["setuptools"]["package-dir"].values()}
    assert needed <= set(copied), f"the image builds pgscore without {sorted(needed - set(copied))}"


def test_the_image_installs_the_debian_packages_scripts_run_does_and_says_when_it_is_healthy():
    """The packages scripts/run installs on a machine (postgresql-15 comes with the base image) are the
    image's too, and the image has a HEALTHCHECK: it had none, so `docker ps`, Compose's
    `depends_on: condition: service_healthy` and orchestrators could not tell a server that was up."""
    instructions = _dockerfile_instructions()
    base = next(args for instruction, args in instructions if instruction.upper() == "FROM")
    assert re.fullmatch(r"postgres:15-bookworm\b.*", base)
    run_script = (ROOT / "scripts" / "run").read_text()
    wanted = set(re.search(r"^APT_PACKAGES=\((.*)\)$", run_script, re.M).group(1).split())
    installed = set()
    for instruction, args in instructions:
        if instruction.upper() == "RUN" and "apt-get install" in args:
            words = args.split("apt-get install", 1)[1].split("&&", 1)[0].split()
            installed |= {w.strip('"').split("=", 1)[0].replace("${PG_MAJOR}", "15")
                          for w in words if not w.startswith("-")}
    assert wanted - {"postgresql-15"} <= installed, f"the image lacks {sorted(wanted - {'postgresql-15'} - installed)}"
    healthchecks = [args for instruction, args in instructions if instruction.upper() == "HEALTHCHECK"]
    assert len(healthchecks) == 1, "Dockerfile.postgres needs one HEALTHCHECK"
    # over TCP: the first start's initialisation server listens on the socket only
    assert re.search(r'CMD \["pg_isready", "-q", "-h", "127\.0\.0\.1"\]', healthchecks[0])


def _run_script_missing_packages(tmp_path, sudo, apt_get="exit 0", dpkg_query="exit 1", args=("--version",)):
    """scripts/run --version (or `args`) where dpkg-query finds none of the Debian packages (or as `dpkg_query`,
    the fake's body, says), with a fake apt-get and sudo first on the PATH (`sudo` the fake's body: $1 is -n for
    sudo -n true); CompletedProcess."""
    import os
    import subprocess

    fake = tmp_path / "bin"
    fake.mkdir()
    for name, body in (("dpkg-query", dpkg_query), ("apt-get", f'echo "apt-get $*" >> {tmp_path}/calls; {apt_get}'),
                       ("sudo", sudo)):
        (fake / name).write_text(f"#!/bin/sh\n{body}\n")
        (fake / name).chmod(0o755)
    env = {**os.environ, "PATH": f"{fake}:{os.environ['PATH']}"}
    return subprocess.run([str(ROOT / "scripts" / "run"), *args], capture_output=True, text=True, env=env,
                          stdin=subprocess.DEVNULL, timeout=120)


def test_scripts_run_test_installs_pgbouncer_for_the_pooler_tests_and_goes_on_without_it(tmp_path):
    """The tests of `pgscore score` through PgBouncer (test_cli's `_pgbouncer`) skipped wherever it was not
    installed, CI's machine among them: the pooler refusal of session 63 ran nowhere (session 64). `scripts/run
    test` installs Debian's pgbouncer where it is missing, as it does postgresql-15 (root, or sudo); where it cannot,
    it says that those tests will skip and runs the others. Other commands do not install it."""
    import os

    only_pgbouncer = 'case "$*" in *pgbouncer*) exit 1;; *) echo "install ok installed";; esac'
    run = _run_script_missing_packages(tmp_path, sudo="exit 0", dpkg_query=only_pgbouncer)
    assert run.returncode == 0 and "pgbouncer" not in run.stderr, run
    assert not (tmp_path / "calls").exists()
    if os.geteuid() != 0:  # (no sudo: told, and the tests run)
        (tmp_path / "bin").rename(tmp_path / "bin-0")
        run = _run_script_missing_packages(tmp_path, sudo="exit 1", dpkg_query=only_pgbouncer,
                                           args=("test", "--version"))
        assert run.returncode == 0, run
        assert "pgscore setup: the tests through PgBouncer will skip: this user cannot install pgbouncer" in \
            run.stderr, run.stderr
    (tmp_path / "bin").rename(tmp_path / "bin-1")
    run = _run_script_missing_packages(tmp_path, sudo='[ "$1" = -n ] && exit 0; shift; exec "$@"',
                                       dpkg_query=only_pgbouncer, args=("test", "--version"))
    assert run.returncode == 0, run
    assert "pgscore setup: installing Debian packages" in run.stderr and ": pgbouncer\n" in run.stderr, run.stderr
    assert (tmp_path / "calls").read_text().splitlines()[-1].endswith("--no-install-recommends pgbouncer")
    (tmp_path / "bin").rename(tmp_path / "bin-2")
    (tmp_path / "calls").unlink()
    run = _run_script_missing_packages(tmp_path, sudo='[ "$1" = -n ] && exit 0; shift; exec "$@"',
                                       apt_get="echo 'E: Unable to locate package pgbouncer' >&2; exit 100",
                                       dpkg_query=only_pgbouncer, args=("test", "--version"))
    assert run.returncode == 0, run  # (pytest --version: the tests run)
    assert "E: Unable to locate package pgbouncer" in run.stderr, run.stderr
    assert "pgscore setup: the tests through PgBouncer will skip: pgbouncer could not be installed (above)" in \
        run.stderr, run.stderr


def test_scripts_run_test_asks_no_sudo_password_for_pgbouncer_at_a_terminal(tmp_path):
    """A user whose sudo asks a password, at a terminal: `scripts/run test` ran `sudo apt-get update` for the
    tests' optional pgbouncer, a password prompt at every run of the tests where it was not installed (as for
    postgresql-15, which every command needs). Now only a sudo that asks nothing installs it; else it says those
    tests will skip."""
    import pty
    import subprocess

    fake = tmp_path / "bin"
    fake.mkdir()
    for name, body in (("dpkg-query", 'case "$*" in *pgbouncer*) exit 1;; *) echo "install ok installed";; esac'),
                       ("id", '[ "$1" = -u ] && { echo 1000; exit 0; }; exec /usr/bin/id "$@"'),
                       ("apt-get", f'echo "apt-get $*" >> {tmp_path}/calls'),
                       ("sudo", f'[ "$1" = -n ] && exit 1; echo "sudo $*" >> {tmp_path}/calls; exit 1')):
        (fake / name).write_text(f"#!/bin/sh\n{body}\n")
        (fake / name).chmod(0o755)
    main, terminal = pty.openpty()
    try:
        run = subprocess.run([str(ROOT / "scripts" / "run"), "test", "--version"], capture_output=True, text=True,
                             env={**os.environ, "PATH": f"{fake}:{os.environ['PATH']}"}, stdin=terminal, timeout=120)
    finally:
        os.close(terminal)
        os.close(main)
    assert run.returncode == 0, run
    assert not (tmp_path / "calls").exists(), (tmp_path / "calls").read_text()
    assert "the tests through PgBouncer will skip: this user cannot install pgbouncer" in run.stderr, run.stderr


def test_scripts_run_says_installing_only_when_it_can_and_what_to_do_when_sudo_or_apt_get_fails(tmp_path):
    """Missing Debian packages: an ordinary user without sudo was told 'installing Debian packages' and then
    that it could not; one whom sudo refused (or root whose apt-get failed) got sudo's or apt-get's error and
    no apt-get line to pass on. Each says now what to run, and 'installing' only when it tries."""
    import os

    packages = "postgresql-15 postgresql-plpython3-15 python3-venv"
    if os.geteuid() == 0:  # sudo is not used: apt-get itself
        run = _run_script_missing_packages(tmp_path, sudo="exit 1")
        assert run.returncode == 0 and f"pgscore setup: installing Debian packages: {packages}" in run.stderr, run
        assert (tmp_path / "calls").read_text().splitlines()[-1].endswith(f"--no-install-recommends {packages}")
        (tmp_path / "bin").rename(tmp_path / "bin-ok")
        run = _run_script_missing_packages(tmp_path, sudo="exit 1", apt_get="echo 'E: no space' >&2; exit 100")
        assert run.returncode == 1 and "E: no space" in run.stderr, run
        assert (f"pgscore setup: apt-get could not install them (above); once that is fixed, run: apt-get update && "
                f"apt-get install -y {packages}") in run.stderr, run.stderr
        return
    # no sudo to use (sudo -n fails, no terminal to ask for a password on)
    run = _run_script_missing_packages(tmp_path, sudo="exit 1")
    assert run.returncode == 1 and "installing" not in run.stderr, run.stderr
    assert f"ask an administrator to run: apt-get update && apt-get install -y {packages}" in run.stderr
    assert not (tmp_path / "calls").exists()
    # sudo that lets this user in (sudo -n true) but refuses apt-get
    (tmp_path / "bin").rename(tmp_path / "bin-none")
    run = _run_script_missing_packages(
        tmp_path, sudo='[ "$1" = -n ] && exit 0; echo "Sorry, user may not run $1 as root" >&2; exit 1')
    assert run.returncode == 1 and f"installing Debian packages through sudo: {packages}" in run.stderr, run.stderr
    assert "Sorry, user may not run env as root" in run.stderr
    assert (f"pgscore setup: could not install them through sudo: ask an administrator to run: apt-get update && "
            f"apt-get install -y {packages}") in run.stderr, run.stderr


def test_scripts_run_through_a_symlink_runs_its_checkout(tmp_path):
    """A link to scripts/run on the PATH (`ln -s ~/pgscore/scripts/run ~/bin/pgscore`, as one does for a command
    that is on no PATH) took the link's folder's parent for the checkout: `cat: ~/pyproject.toml: No such file or
    directory`, exit 1, before anything ran. It finds its checkout through the link now, and its hints name it."""
    import os
    import subprocess

    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "pgscore").symlink_to(ROOT / "scripts" / "run")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PGSCORE_")}
    run = subprocess.run([str(tmp_path / "bin" / "pgscore"), "--version"], capture_output=True, text=True, env=env,
                         stdin=subprocess.DEVNULL, timeout=120)
    assert run.returncode == 0 and "pgscore" in run.stdout + run.stderr, run
    assert "No such file" not in run.stderr, run.stderr
    assert not (tmp_path / ".venv").exists()  # (the checkout's .venv, not one made beside the link)
    # a hint names the checkout's scripts/run, a command that works from any directory
    # (no embedded cluster there, whatever this machine's root or user runs: the error's hint names the command to
    # start one)
    (tmp_path / "home").mkdir()
    run = subprocess.run([str(tmp_path / "bin" / "pgscore"), "models"], capture_output=True, text=True,
                         env={**env, "HOME": str(tmp_path / "home"), "PGSCORE_DATA_DIR": str(tmp_path / "none")},
                         stdin=subprocess.DEVNULL, timeout=120)
    assert run.returncode == 1 and f"{ROOT / 'scripts' / 'run'} db start" in run.stderr, run.stderr
    assert str(tmp_path / "bin") not in run.stderr, run.stderr


def test_a_rebuild_from_the_checkout_ships_its_current_sources_not_an_earlier_builds(tmp_path):
    """`pip install /path/to/checkout` builds in the source tree, and setuptools kept its build/lib from one
    build to the next: a module deleted since the last install was shipped again, and one whose file is older
    than the copy there (restored with `cp -p`, from a tarball) was shipped as that copy. setup.py builds in a
    temporary directory now; two wheels built one after the other from the same tree (what pip install does)."""
    import shutil
    import subprocess
    import sys
    import zipfile

    src = tmp_path / "src"
    src.mkdir()
    for name in ("pyproject.toml", "setup.py", "README.md"):  # (what the image copies, as a checkout has them)
        if (ROOT / name).exists():
            shutil.copy(ROOT / name, src / name)
    for name in ("py_src", "migrations"):
        shutil.copytree(ROOT / name, src / name, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    gone, changed = src / "py_src" / "pgscore" / "gone_since.py", src / "py_src" / "pgscore" / "changed_since.py"
    gone.write_text("X = 1\n")
    changed.write_text("VERSION = 'old'\n")

    def wheel(out):
        run = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--disable-pip-version-check",
                              "-w", str(out), str(src)], capture_output=True, text=True, timeout=600)
        assert run.returncode == 0, run.stdout + run.stderr
        (whl,) = out.glob("pgscore-*.whl")
        with zipfile.ZipFile(whl) as z:
            return {n: z.read(n) for n in z.namelist() if n.startswith("pgscore/") and n.endswith(".py")}

    first = wheel(tmp_path / "w1")
    assert first["pgscore/gone_since.py"] == b"X = 1\n" and "pgscore/cli.py" in first
    gone.unlink()
    changed.write_text("VERSION = 'new'\n")
    os.utime(changed, (946684800, 946684800))  # older than the first build's copy (2000-01-01)
    second = wheel(tmp_path / "w2")
    assert "pgscore/gone_since.py" not in second, "a module deleted from py_src was shipped from an earlier build"
    assert second["pgscore/changed_since.py"] == b"VERSION = 'new'\n", "an earlier build's copy was shipped"
    assert not (src / "build").exists(), "the build left build/ in the checkout"


def test_setup_py_says_where_a_strict_editable_install_writes(tmp_path):
    """setup.py said builds were "never in the checkout's build/": a strict editable install
    (`pip install -e . --config-settings editable_mode=strict`) writes build/__editable__.* there all the same
    (setuptools puts its tree of links in the project's build/, whatever build_base says). Checked in a copy, and
    setup.py says so."""
    import shutil
    import subprocess
    import sys

    src = tmp_path / "src"
    src.mkdir()
    for name in ("pyproject.toml", "setup.py", "README.md"):
        if (ROOT / name).exists():
            shutil.copy(ROOT / name, src / name)
    for name in ("py_src", "migrations"):
        shutil.copytree(ROOT / name, src / name, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    run = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--disable-pip-version-check",
                          "--target", str(tmp_path / "site"), "-e", str(src), "--config-settings",
                          "editable_mode=strict"], capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout + run.stderr
    assert list((src / "build").glob("__editable__.*")), sorted(p.name for p in src.iterdir())
    doc = (ROOT / "setup.py").read_text()
    assert "never in the checkout's build/" not in doc
    assert "editable_mode=strict" in doc and "build/__editable__" in doc


def test_scripts_run_score_stopped_by_a_sigterm_in_its_set_up_exits_75_as_pgscore_score_does(tmp_path):
    """`scripts/run score` (the README's way, and a link to it named pgscore on the PATH) spends 150-300 ms in its
    set-up (the Debian packages' and the venv's checks) before pgscore's first line: a scheduler's SIGTERM there
    ended it as bash's default does, 143, where docs/cli.md says pgscore score gives 75 from its first line (the 143
    window measured 50-60 ms: the console script's, not this one's; session 67, review r1). A SIGTERM in the set-up
    of pgscore score exits 75 saying nothing was written (a Ctrl-C 130); another command's is let go as it came."""
    import os
    import signal
    import subprocess

    fake = tmp_path / "bin"
    fake.mkdir()
    # a signal to scripts/run itself (the shell running missing_packages' command substitution is its child)
    (fake / "dpkg-query").write_text("#!/bin/sh\nkill -$SIG \"$(awk '{print $4}' /proc/$PPID/stat)\"\n"
                                     "sleep 0.2\necho 'install ok installed'\n")
    (fake / "dpkg-query").chmod(0o755)

    # (SIGINT as a terminal gives it, whatever the suite's own: a suite started in the background by a
    # non-interactive shell inherits it ignored, and the Ctrl-C case below exited 1, not 130)
    def run(sig, *args):
        env = {**os.environ, "PATH": f"{fake}:{os.environ['PATH']}", "SIG": sig}
        return subprocess.run([str(ROOT / "scripts" / "run"), *args], capture_output=True, text=True, env=env,
                              stdin=subprocess.DEVNULL, timeout=120,
                              preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))

    score = ("score", "--model", "m", "--table", "t", "--key", "k", "--into", "s")
    for args in (score, ("--db", "postgresql:///nowhere", *score)):
        r = run("TERM", *args)
        assert r.returncode == 75, r
        assert r.stderr == ("pgscore: stopped by a SIGTERM before the first chunk was committed: nothing was written; "
                            "run it again as it was\n"), r.stderr
    r = run("INT", *score)
    assert r.returncode == 130, r
    assert r.stderr == "pgscore: interrupted before the first chunk was committed: nothing was written\n", r.stderr
    r = run("TERM", "models", "--db", "postgresql:///nowhere")  # (not pgscore score: bash's default, as it came)
    assert r.returncode == -signal.SIGTERM, r


def test_scripts_run_test_runs_the_whole_suite_on_workers_and_a_selection_as_given(tmp_path):
    """CI's `scripts/run test` (no arguments) runs the suite on a worker per core, up to 4 (pytest-xdist; session 70:
    one process took 4,707 of CI's 5,400 s); PGSCORE_TEST_WORKERS says how many, and a value that is no number is
    refused before anything runs. PYTEST_ADDOPTS narrows the run to one file here, as arguments would not: an
    argument makes it a selection, run in one process."""
    import os
    import subprocess

    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "PGSCORE_"))}

    def run(workers, addopts=""):
        return subprocess.run([str(ROOT / "scripts" / "run"), "test"], capture_output=True, text=True,
                              env={**env, "PGSCORE_TEST_WORKERS": workers, "PYTEST_ADDOPTS": addopts},
                              stdin=subprocess.DEVNULL, timeout=600, cwd=tmp_path)

    bad = run("two")
    assert bad.returncode == 2 and "PGSCORE_TEST_WORKERS must be a number of workers, not 'two'" in bad.stderr, bad
    assert "test session starts" not in bad.stdout
    two = run("2", "tests/test_shims.py")
    assert two.returncode == 0 and "2 workers [2 items]" in two.stdout and "2 passed" in two.stdout, two
