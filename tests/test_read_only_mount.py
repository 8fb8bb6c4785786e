"""A home on a read-only mount can be read, in every state a WAL database can be left in.

Permissions do not stop root, and a read-only folder is not a read-only file system: SQLite answers
SQLITE_CANTOPEN on a mount where it cannot create a database's -shm file. So the home is copied onto a
tmpfs that is then remounted read-only, in a private mount namespace (``unshare``: as root, or through a
user namespace without it), and the commands run there. Where no such mount can be made the tests skip,
saying why.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from checkpoints.threads import thread_id_for
from tests.cli_helpers import ROOT, Done
from tests.conftest import QUESTION
from tests.test_stores import EDIT, read_back, settle

# runs in the mount namespace: a tmpfs at argv[2] holding a copy of the home argv[1], remounted read-only
# (the mount's own read-only flag, which a user namespace may set too: writes fail with EROFS), then each
# command of argv[3] (JSON) against it; prints their results as JSON
ON_A_READ_ONLY_MOUNT = """
import json, subprocess, sys
source, mount, commands = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
def sh(*args):
    subprocess.run(args, check=True, capture_output=True, text=True)
sh("mount", "-t", "tmpfs", "tmpfs", mount)
try:
    sh("cp", "-a", source + "/.", mount)
    sh("mount", "-o", "remount,bind,ro", mount)
    done = [subprocess.run([sys.executable, "-m", "deepresearch", *args], capture_output=True, text=True,
                           timeout=120) for args in commands]
    print(json.dumps([[d.returncode, d.stdout, d.stderr] for d in done]))
finally:
    subprocess.run(["umount", mount], capture_output=True)
"""


def namespace_prefix(probe: Path) -> list[str]:
    """The command prefix under which a read-only tmpfs can be mounted here, or skip the test saying why.

    A private mount namespace as root (``unshare -m``) or through a user namespace (``unshare -rm``); as
    root with no namespaces at all, the mount is made here and removed at the end.
    """
    probe.mkdir()
    script = f"mount -t tmpfs tmpfs {probe} && mount -o remount,bind,ro {probe} && umount {probe}"
    prefixes = [["unshare", "-m"], ["unshare", "-rm"], []] if os.geteuid() == 0 else [["unshare", "-rm"]]
    failures = []
    for prefix in prefixes:
        if prefix and shutil.which(prefix[0]) is None:
            failures.append(f"{prefix[0]}: not installed")
            continue
        done = subprocess.run([*prefix, "sh", "-c", script], capture_output=True, text=True, timeout=30)
        if done.returncode == 0:
            return prefix
        failures.append(f"{' '.join(prefix) or 'mount'}: {done.stderr.strip()}")
    pytest.skip("cannot make a read-only mount here: " + "; ".join(failures))


def on_a_read_only_mount(env: dict[str, str], home: Path, mount: Path, *commands: list[str]) -> list[Done]:
    """Each command run against a copy of ``home`` on a read-only tmpfs at ``mount`` (made for the purpose)."""
    prefix = namespace_prefix(mount.with_name("probe"))
    mount.mkdir()
    done = subprocess.run([*prefix, sys.executable, "-c", ON_A_READ_ONLY_MOUNT, str(home), str(mount),
                           json.dumps(commands)], env={**env, "DEEPRESEARCH_HOME": str(mount)}, cwd=ROOT,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    return [Done(*result) for result in json.loads(done.stdout)]


@pytest.fixture
def env(stocked_env: dict[str, str]) -> dict[str, str]:
    return stocked_env


@pytest.mark.parametrize("state", ["closed", "writer-killed", "wal-without-shm"])
def test_a_home_on_a_read_only_mount_can_be_read(env: dict[str, str], home: Path, corpus_dir: Path, tmp_path: Path,
                                                 state: str) -> None:
    """`threads`, `show`, `corpus list` and `doctor` read it (and `parse`, which stores nothing, works); `run`
    says it cannot write there.

    closed: a clean exit folded every WAL into its database and removed the -wal and -shm files (SQLite
    cannot create the -shm it wants on the mount). writer-killed: the last edit lives only in
    checkpoints.db-wal, beside its -shm. wal-without-shm: the same, copied without the -shm file, so the
    edit is only found by reading the WAL itself (``immutable`` would miss it).
    """
    for db in home.glob("*.db"):
        settle(db)
    edited = subprocess.run([sys.executable, "-c", EDIT, *(["die"] if state != "closed" else [])], env=env,
                            cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert edited.returncode == 0, edited.stderr
    if state == "wal-without-shm":
        (home / "checkpoints.db-shm").unlink()
    extra = {"closed": set(), "writer-killed": {"checkpoints.db-wal", "checkpoints.db-shm"},
             "wal-without-shm": {"checkpoints.db-wal"}}[state]
    # capabilities.json: what the run's probe of the model server found (doctor reads it and probes again)
    assert {p.name for p in home.iterdir()} == {"checkpoints.db", "corpus.db", "pages.db", "capabilities.json"} | extra
    thread_id = thread_id_for("kept")
    listing, as_json, show, documents, doctor, parse, run = on_a_read_only_mount(
        env, home, tmp_path / "mount", ["threads"], ["threads", "--json"], ["show", "kept", "--json"],
        ["corpus", "list"], ["doctor"], ["parse", str(corpus_dir / "glass_harbor.md")],
        ["run", QUESTION, "--thread", "again", "-q"])
    read_back(thread_id, listing, as_json, show)
    assert documents.returncode == 0, documents.stderr
    assert len(documents.stdout.splitlines()) == 9 and "glass_harbor.md — Glass Harbor" in documents.stdout
    assert doctor.returncode == 0, doctor.stdout + doctor.stderr
    lines = {line[:12].strip(): line[12:] for line in doctor.stdout.splitlines()}
    assert lines["integrity"] == "corpus.db ok; pages.db ok; checkpoints.db ok"
    assert lines["home"].endswith("(read-only: `threads`, `show` and `corpus list` work; `run`, `resume` and "
                                  "`ingest` need to write)")
    with (home / "checkpoints.db").open("rb") as file:
        assert file.read(20)[18:20] == b"\x02\x02"  # a WAL database, as the mount holds it
    assert lines["checkpoints"].startswith("1 threads") and lines["checkpoints"].endswith("journal wal")
    assert parse.returncode == 0 and "Glass Harbor" in parse.stdout, parse.stderr
    assert run.returncode == 1 and "Traceback" not in run.stderr
    assert run.stderr.strip().splitlines()[-1] == (
        f"deepresearch: error: DEEPRESEARCH_HOME {tmp_path / 'mount'} is read-only, and this command writes there "
        "(`threads`, `show`, `corpus list` and `doctor` only read it)")
    for done in (listing, as_json, show, documents, doctor):
        assert done.stderr == "", done.stderr
