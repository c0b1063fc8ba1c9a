"""Command line: ``python -m np_lib <command>`` (also installed as ``np-lib``).

Commands:
  fetch          download (or verify) datasets into the data directory
  datasets       list the datasets: files, size, licence, status here
  run-notebooks  execute notebooks/NN_*.ipynb in order into results/
  paths          print the data and cache directories np_lib uses
"""
from __future__ import annotations

import argparse
import sys


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="np-lib", description="Neural Predictor for NAS (Wen et al., ECCV 2020): tools.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = sub.add_parser(
        "run-notebooks", help="execute notebooks/NN_*.ipynb in order into results/",
        description="Execute every notebooks/NN_*.ipynb in order with papermill (working "
                    "directory: the notebooks folder). Executed copies go to the results "
                    "folder; each notebook gets the parameters results_dir and data_dir.")
    run.add_argument("--results-dir", metavar="DIR",
                     help="where executed notebooks and results go (default: results/ beside "
                          "the notebooks folder)")
    run.add_argument("--notebooks-dir", metavar="DIR",
                     help="folder holding the NN_*.ipynb notebooks (default: the clone's notebooks/)")
    run.add_argument("--only", metavar="NN[,NN...]",
                     help="run only these notebooks, by number or stem, e.g. --only 01,02")
    run.add_argument("-p", "--parameter", dest="parameters", nargs=2, action="append",
                     metavar=("KEY", "VALUE"),
                     help="extra notebook parameter (repeatable); VALUE is typed like papermill "
                          "does: True/False/None, int, float, else string")
    run.add_argument("--kernel", default="python3", help="Jupyter kernel name (default: python3)")
    run.add_argument("--log-output", action="store_true",
                     help="echo the notebooks' own output while they run")

    sub.add_parser("paths", help="print the data and cache directories np_lib uses")

    fetch = sub.add_parser(
        "fetch", help="download (or verify) datasets into the data directory",
        description="Download the named datasets from their public addresses into the data "
                    "directory and verify every file's sha256 (files already there are verified, "
                    "not downloaded again). 'all' (the default) is every dataset but the 499 MB "
                    "nasbench101-official. NP_LIB_MIRROR=URL fetches https://HOST/PATH from "
                    "URL/HOST/PATH instead (http:// or file://).")
    fetch.add_argument("names", nargs="*", default=["all"], metavar="NAME",
                       help="dataset names (see `python -m np_lib datasets`), or all")
    fetch.add_argument("--data-dir", metavar="DIR", help="where to put them (default: the data directory)")
    fetch.add_argument("--quiet", action="store_true", help="no progress bars")

    listing = sub.add_parser("datasets", help="list the datasets: files, size, licence, status here")
    listing.add_argument("--data-dir", metavar="DIR", help="the data directory to check (default: the usual one)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "run-notebooks":
        from np_lib import run_notebooks

        return run_notebooks.main(args)
    if args.command == "paths":
        from np_lib import storage

        print(f"data_dir  {storage.data_dir()}  (set {storage.DATA_DIR_ENV} to change)")
        print(f"cache_dir {storage.cache_dir()}  (set {storage.CACHE_DIR_ENV} to change)")
        return 0
    if args.command == "fetch":
        return _fetch(args)
    if args.command == "datasets":
        return _datasets(args)
    return 2  # unreachable: argparse requires a command


def _fetch(args) -> int:
    from np_lib import datasets

    try:
        names = datasets.expand_names(args.names)
    except ValueError as e:
        print(f"np-lib fetch: {e}", file=sys.stderr)
        return 2
    target = datasets.resolve_data_dir(args.data_dir)
    print(f"data directory: {target}")
    try:
        paths = datasets.fetch(names, target, progress=not args.quiet, log=lambda line: print("  " + line))
    except (OSError, ValueError) as e:  # DatasetCorrupt, ConnectionError, PermissionError
        print(f"np-lib fetch: {e}", file=sys.stderr)
        return 1
    print(f"{len(paths)} files of {', '.join(names)} present and verified")
    return 0


def _datasets(args) -> int:
    from np_lib import datasets

    target = datasets.resolve_data_dir(args.data_dir)
    states = {}
    for s in datasets.status(target):
        states.setdefault(s.dataset, []).append(s)
    rows = [("name", "files", "size", "status", "licence")]
    for name, d in datasets.REGISTRY.items():
        counts = {k: sum(s.state == k for s in states[name]) for k in ("verified", "missing", "corrupt")}
        state = ("verified" if counts["verified"] == len(d.files)
                 else ", ".join(f"{n} {k}" for k, n in counts.items() if n))
        size = ("~499 MB" if d.size is None else f"{d.size / 1e6:.1f} MB" if d.size >= 1e5
                else f"{d.size / 1e3:.0f} KB")
        rows.append((name, str(len(d.files)), size, state, d.licence.split(" (")[0]))
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    print(f"data directory: {target}")
    for r in rows:
        print("  ".join(c.ljust(w) for c, w in zip(r[:4], widths)) + "  " + r[4])
    for s in datasets.status(target):
        if s.state == "corrupt":
            print(f"corrupt: {s.path}: {s.detail}")
    return 1 if any(s.state == "corrupt" for ss in states.values() for s in ss) else 0


if __name__ == "__main__":
    sys.exit(main())
