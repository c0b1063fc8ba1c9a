"""Command line: ``python -m np_lib <command>`` (also installed as ``np-lib``).

Commands:
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
    return 2  # unreachable: argparse requires a command


if __name__ == "__main__":
    sys.exit(main())
