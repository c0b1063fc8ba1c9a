"""Worker processes (np_lib.workers): no hang from a script on standard input, no orphans after SIGKILL
(issue 14, items 5 and 7). Each test runs a real Python subprocess under a bounded wait."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from np_lib.nasbench101.space import _enumerate

TESTS = Path(__file__).resolve().parent
CELLS_UP_TO_5_VERTICES = 2532  # unique NAS-Bench-101 cells of 2..5 vertices (checked against the serial path below)


def _python(script: str, *args: str, stdin: bool = False, timeout: float = 120) -> subprocess.CompletedProcess:
    command = [sys.executable, "-", *args] if stdin else [sys.executable, "-c", script, *args]
    return subprocess.run(command, input=script if stdin else None, capture_output=True, text=True,
                          timeout=timeout)


def test_enumeration_from_standard_input_falls_back_to_one_process():
    # Before the fix this never returned: multiprocessing.Pool replaced the dying spawned workers forever.
    proc = _python("from np_lib.nasbench101.space import _enumerate\n"
                   "print(len(_enumerate(False, 2, max_vertices=5)))\n", stdin=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == [str(CELLS_UP_TO_5_VERTICES)]
    assert "main script comes from standard input" in proc.stderr
    assert "hashing in this one process instead" in proc.stderr
    assert len(_enumerate(False, 1, max_vertices=5)) == CELLS_UP_TO_5_VERTICES


def test_enumeration_whose_workers_die_falls_back_to_one_process(tmp_path):
    # A script without the `if __name__ == "__main__"` guard: each spawned worker re-runs it and dies
    # trying to start processes of its own.
    script = tmp_path / "unguarded.py"
    script.write_text("from np_lib.nasbench101.space import _enumerate\n"
                      "print(len(_enumerate(False, 2, max_vertices=5)))\n")
    proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split()[-1] == str(CELLS_UP_TO_5_VERTICES)
    assert "worker processes died" in proc.stderr


def test_enumeration_in_spawned_workers_gives_the_serial_cells(tmp_path):
    script = tmp_path / "guarded.py"
    script.write_text("from np_lib.nasbench101.space import _enumerate\n"
                      "if __name__ == '__main__':\n"
                      "    print(''.join(_enumerate(False, 2, max_vertices=5).hashes))\n")
    proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0 and "hashing in this one process" not in proc.stderr, proc.stderr
    assert proc.stdout.strip() == "".join(_enumerate(False, 1, max_vertices=5).hashes)


def test_a_process_pool_from_standard_input_is_a_clear_error():
    proc = _python("from np_lib.experiment import process_pool\nprocess_pool(2)\n", stdin=True, timeout=120)
    assert proc.returncode == 1
    assert "RuntimeError: process_pool: this program's main script comes from standard input" in proc.stderr
    assert "Save the script to a file" in proc.stderr


_VICTIM = """
import sys, time
sys.path.insert(0, sys.argv[1])
from test_experiment import synthetic_benchmark
from np_lib.experiment import process_pool, run_experiment
from np_lib.search import RandomSearch


class SleepySearch(RandomSearch):
    def search(self, *args, **kwargs):
        print("searching", flush=True)
        time.sleep(300)
        return super().search(*args, **kwargs)


if __name__ == "__main__":
    with process_pool(2) as pool:
        run_experiment(SleepySearch(), synthetic_benchmark(), budget=5, runs=4, executor=pool, progress=False)
"""


def _children(pid: int) -> set[int]:
    """Live (not zombie) processes whose parent is ``pid``, from /proc."""
    out = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid and fields[0] != "Z":
                out.add(int(entry.name))
    return out


def _alive(pid: int) -> bool:
    try:
        return (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads the process table from Linux's /proc")
def test_workers_and_resource_tracker_exit_when_run_experiment_is_killed(tmp_path):
    script = tmp_path / "victim.py"
    script.write_text(_VICTIM)
    victim = subprocess.Popen([sys.executable, str(script), str(TESTS)], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
    children: set[int] = set()
    try:
        assert victim.stdout.readline().strip() == "searching", victim.stderr.read()  # a worker is busy
        deadline = time.monotonic() + 60
        while len(children) < 3 and time.monotonic() < deadline:  # two workers and the resource tracker
            children |= _children(victim.pid)
            time.sleep(0.2)
        assert len(children) == 3, children
        victim.send_signal(signal.SIGKILL)
        victim.wait(timeout=10)
        deadline = time.monotonic() + 10
        while any(_alive(pid) for pid in children) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not [pid for pid in children if _alive(pid)], "orphans left after SIGKILL of their parent"
    finally:
        victim.kill()
        for pid in children:  # without the fix these would sleep for 5 minutes
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)


def test_a_live_parent_keeps_its_workers(tmp_path):
    # The watchdog must not fire while the parent lives: a pool stays usable past several polls.
    proc = _python("import json, os, time\n"
                   "from np_lib.experiment import process_pool\n"
                   "if __name__ == '__main__':\n"
                   "    with process_pool(1) as pool:\n"
                   "        first = pool.submit(os.getpid).result()\n"
                   "        time.sleep(1.5)\n"
                   "        print(json.dumps([first, pool.submit(os.getpid).result()]))\n", timeout=120)
    assert proc.returncode == 0, proc.stderr
    first, later = json.loads(proc.stdout)
    assert first == later  # the same worker, still alive


def test_conversion_of_the_official_file_from_standard_input_falls_back_to_one_process(tmp_path):
    # The official file's conversion is the third worker pool: the same check, the same fallback.
    proc = _python(f"""
import sys
sys.path.insert(0, {str(TESTS)!r})
import pyarrow.parquet as pq
from test_official_format import real_cells, write
from np_lib.nasbench101 import official
write({str(tmp_path / 'x.tfrecord')!r}, real_cells(12))
official.convert({str(tmp_path / 'x.tfrecord')!r}, {str(tmp_path / 'p.parquet')!r}, progress=False, workers=2,
                 chunk_bytes=4096)
official.convert({str(tmp_path / 'x.tfrecord')!r}, {str(tmp_path / 's.parquet')!r}, progress=False, workers=1)
print(pq.read_table({str(tmp_path / 'p.parquet')!r}).equals(pq.read_table({str(tmp_path / 's.parquet')!r})))
""", stdin=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["True"]
    assert "converting NAS-Bench-101: this program's main script comes from standard input" in proc.stderr
