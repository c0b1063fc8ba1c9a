"""Worker processes that never hang and never outlive their parent.

np_lib starts worker processes in two places: :func:`np_lib.experiment.process_pool`
(search runs, sections 3 and 4.1: "fully parallelizable") and the hashing of
:func:`np_lib.nasbench101.space.enumerate_cells`. Both *spawn* their workers
(a fresh interpreter; forking a process that runs torch's thread pool or a
Jupyter kernel can hang), and spawning has two failure modes that this module
turns into clear behaviour:

* **A main module that cannot be re-imported.** A spawned worker first
  re-imports the parent's ``__main__`` script. A script read from standard
  input (``python - <<EOF``) or deleted since has no file to import: every
  worker dies at start, and ``multiprocessing.Pool`` replaces it forever (a
  hang). :func:`spawn_problem` detects that before any worker starts.
* **A parent killed with SIGKILL.** Nothing in the parent runs, so its workers
  (and multiprocessing's resource tracker, which exits once every process
  holding its pipe has) would stay alive as orphans. :func:`watch_parent`,
  run as a pool's initializer, makes each worker exit within
  ``PARENT_POLL_SECONDS`` of its parent's death.
"""
from __future__ import annotations

import os
import sys
import threading

#: How often a worker checks that its parent is alive (seconds).
PARENT_POLL_SECONDS = 0.5


def spawn_problem() -> str | None:
    """Why spawned workers could not start from this process's ``__main__``, or None if they can.

    A worker re-imports ``__main__`` from its file (``__main__.__file__``);
    an interactive session or a Jupyter kernel has no such file to import and
    is fine, and so is ``python -m module`` (imported by name).
    """
    main = sys.modules.get("__main__")
    if main is None or getattr(main, "__spec__", None) is not None:
        return None
    path = getattr(main, "__file__", None)
    if path is None:
        return None
    if not os.path.isfile(path):
        where = "standard input" if path == "<stdin>" else f"{path!r}, which is not a file"
        return (f"this program's main script comes from {where}; spawned worker processes "
                "re-import the main script and cannot")
    return None


def watch_parent(parent_pid: int) -> None:
    """Exit this process as soon as ``parent_pid`` is no longer its parent (a pool initializer).

    A daemon thread compares ``os.getppid()`` with ``parent_pid`` every
    ``PARENT_POLL_SECONDS``: when the parent dies the worker is re-parented
    (to init or a subreaper) and the check fails, even while the worker's main
    thread is busy in a search. Polling rather than Linux's
    ``prctl(PR_SET_PDEATHSIG)``: that signal fires when the *thread* that
    started the worker exits, and ``ProcessPoolExecutor`` starts workers from
    whichever thread submits work, so a pool used from a short-lived thread
    would lose its workers; polling is also portable (macOS, Windows).
    """
    if os.getppid() != parent_pid:  # the parent died before this worker got here
        os._exit(1)

    def watch() -> None:
        while not _stop.wait(PARENT_POLL_SECONDS):
            if os.getppid() != parent_pid:
                # os._exit, not sys.exit: skip atexit handlers and joins that could wait on the dead parent
                os._exit(1)

    threading.Thread(target=watch, name="np_lib-parent-watch", daemon=True).start()


_stop = threading.Event()  # never set: the watch ends with the process
