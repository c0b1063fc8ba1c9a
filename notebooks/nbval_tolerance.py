"""Compare trained numbers in notebook outputs with stated tolerances, everything else exactly.

nbval compares a replayed cell's outputs with the stored ones character for character. That is
right for what is exact (cell structure, text, counts, hashes, shapes, chosen settings), but a
predictor trained on another CPU's kernels (``ATEN_CPU_CAPABILITY=default``: torch's portable
kernels, as on ARM or a CPU without AVX2) ends a few thousandths away, and 5 of 12 cells of
notebook 02 then failed. A cell tagged ``nbval-tolerance`` is compared here instead:

* its outputs must have the same kinds (streams, MIME types) and count as the stored ones;
* every text is split into decimal numbers and the rest; the rest (whitespace runs collapsed,
  since pandas pads columns to the widths of the numbers) must be equal, integers included;
* the decimal numbers must agree within the notebook's tolerances in
  ``nbval_tolerances.toml``;
* if a ``text/plain`` output is a Python dict literal (the notebook's ``results``), its keys must
  be equal and each value is matched by its dotted key path (``ranking.two stage.Kendall tau,
  all unseen``), so every number has a tolerance stated for what it is; integers, strings and
  booleans stay exact.

A float with no tolerance pattern matching its key (``display`` for numbers outside a dict) is
compared exactly, so a new trained number fails the CPU-kernel matrix of ``.ci/run`` until a
measured tolerance is written down for it. The reference is still the notebook's stored output:
re-executing the notebook in place regenerates it, and no number is kept by hand.
"""
from __future__ import annotations

import ast
import fnmatch
import math
import re
from dataclasses import dataclass
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10: pytest itself depends on tomli there
    import tomli as tomllib

TAG = "nbval-tolerance"
TOLERANCES_FILE = Path(__file__).with_name("nbval_tolerances.toml")
DISPLAY = "display"

# A decimal number: digits with a point or an exponent. Integers (counts, "19,829", "N = 172")
# are left in the text and so compared exactly.
_DECIMAL = re.compile(r"(?<![\w.])[-+]?(?:\d+\.\d*|\.\d+|\d+(?=[eE]))(?:[eE][-+]?\d+)?(?![\w.])")
_SPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class Tolerance:
    """``|fresh - stored| <= abs + rel * |stored|``."""

    abs: float = 0.0
    rel: float = 0.0

    def accepts(self, stored: float, fresh: float) -> bool:
        if math.isnan(stored) or math.isnan(fresh):
            return math.isnan(stored) and math.isnan(fresh)
        return abs(fresh - stored) <= self.abs + self.rel * abs(stored)

    def __str__(self):
        parts = [f"abs {self.abs:g}" if self.abs else "", f"rel {self.rel:g}" if self.rel else ""]
        return " + ".join(p for p in parts if p) or "exact"


EXACT = Tolerance()


class Tolerances:
    """One notebook's tolerances: fnmatch patterns over key paths, the first match wins."""

    def __init__(self, patterns: dict[str, Tolerance]):
        self.patterns = patterns

    @classmethod
    def for_notebook(cls, stem: str, path: Path = TOLERANCES_FILE) -> "Tolerances":
        with open(path, "rb") as f:
            table = tomllib.load(f).get(stem, {})
        patterns = {}
        for pattern, spec in table.items():
            if isinstance(spec, (int, float)) and not isinstance(spec, bool):
                spec = {"abs": spec}
            if not isinstance(spec, dict) or set(spec) - {"abs", "rel"}:
                raise ValueError(f"{path}: [{stem}] {pattern!r} must be a number (absolute) "
                                 f"or a table with keys abs and/or rel, not {spec!r}")
            tol = Tolerance(float(spec.get("abs", 0.0)), float(spec.get("rel", 0.0)))
            if tol.abs < 0 or tol.rel < 0:
                raise ValueError(f"{path}: [{stem}] {pattern!r}: tolerances must be >= 0")
            patterns[pattern] = tol
        return cls(patterns)

    def lookup(self, key: str) -> Tolerance:
        for pattern, tol in self.patterns.items():
            if fnmatch.fnmatchcase(key, pattern):
                return tol
        return EXACT


# ---- parsing outputs ---------------------------------------------------------------------

_NAMES = {"nan": math.nan, "inf": math.inf, "True": True, "False": False, "None": None}
# numpy 2 writes scalars as np.float64(0.5) inside a dict's repr; a Path as PosixPath('...')
_WRAPPERS = re.compile(r"^(np|numpy)\.(float|int|uint|bool_?)\d*$|^(Posix|Windows)?Path$")


def _literal(node):
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Name) and node.id in _NAMES:
        return _NAMES[node.id]
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        value = _literal(node.operand)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return -value if isinstance(node.op, ast.USub) else value
    if isinstance(node, ast.Dict):
        return {_literal(k): _literal(v) for k, v in zip(node.keys, node.values)}
    if isinstance(node, (ast.List, ast.Tuple)):
        return [_literal(e) for e in node.elts]
    if (isinstance(node, ast.Call) and len(node.args) == 1 and not node.keywords
            and _WRAPPERS.match(ast.unparse(node.func))):
        return _literal(node.args[0])
    raise ValueError(f"not a literal: {ast.unparse(node)[:60]}")


def parse_dict(text: str):
    """The dict a ``text/plain`` output shows, or None if it is not a dict literal."""
    try:
        tree = ast.parse(text.strip(), mode="eval").body
        if not isinstance(tree, ast.Dict):
            return None
        return _literal(tree)
    except (SyntaxError, ValueError, TypeError, RecursionError):
        return None


def _flatten(value, prefix=""):
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        yield prefix, value
        return
    if not items:
        yield prefix, value
    for k, v in items:
        yield from _flatten(v, f"{prefix}.{k}" if prefix else str(k))


def split_numbers(text: str) -> tuple[str, list[float]]:
    """Text with each decimal number replaced by ``<#>`` (whitespace collapsed), and the numbers."""
    numbers = [float(m) for m in _DECIMAL.findall(text)]
    skeleton = _SPACE.sub(" ", _DECIMAL.sub("<#>", text)).strip()
    return skeleton, numbers


# ---- comparing ---------------------------------------------------------------------------

def _is_float(v):
    return isinstance(v, float)


def compare_dicts(stored: dict, fresh: dict, tolerances: Tolerances) -> list[str]:
    """Differences between two results dicts, one line each (empty: they agree)."""
    a, b = dict(_flatten(stored)), dict(_flatten(fresh))
    problems = [f"key {k!r} missing from the replay" for k in a if k not in b]
    problems += [f"unexpected key {k!r} in the replay" for k in b if k not in a]
    for key in a.keys() & b.keys():
        s, f = a[key], b[key]
        numeric = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (s, f))
        if numeric and (_is_float(s) or _is_float(f)):
            tol = tolerances.lookup(key)
            if not tol.accepts(float(s), float(f)):
                problems.append(f"{key}: stored {s!r}, replay {f!r} (difference {f - s:+.3g}, "
                                f"tolerance {tol})")
        elif type(s) is not type(f) or s != f:
            problems.append(f"{key}: stored {s!r}, replay {f!r} (compared exactly)")
    return sorted(problems)


def compare_texts(stored: str, fresh: str, tolerances: Tolerances, where: str) -> list[str]:
    """Differences between two output texts: the words exactly, the decimal numbers with tolerance."""
    stored_dict, fresh_dict = parse_dict(stored), parse_dict(fresh)
    if stored_dict is not None:
        if fresh_dict is None:
            return [f"{where}: the stored output is a dict, the replay's is not:\n{fresh[:2000]}"]
        return [f"{where}: {p}" for p in compare_dicts(stored_dict, fresh_dict, tolerances)]
    s_text, s_nums = split_numbers(stored)
    f_text, f_nums = split_numbers(fresh)
    if s_text != f_text or len(s_nums) != len(f_nums):
        return [f"{where}: the text differs beyond its decimal numbers\n"
                f"<<< stored\n{stored[:3000]}\n=== replay\n{fresh[:3000]}\n>>>"]
    tol = tolerances.lookup(DISPLAY)
    bad = [(i, s, f) for i, (s, f) in enumerate(zip(s_nums, f_nums)) if not tol.accepts(s, f)]
    return [f"{where}: number {i + 1} of {len(s_nums)}: stored {s!r}, replay {f!r} "
            f"(difference {f - s:+.3g}, tolerance {tol} for {DISPLAY!r})" for i, s, f in bad]


def flatten_outputs(outputs, skip=("image/png", "image/jpeg"), sanitize=lambda s: s):
    """``{kind: [text, ...]}`` for a cell's outputs: streams by name, display data by MIME type."""
    flat: dict[str, list] = {}
    for out in outputs:
        if out.get("output_type") == "stream":
            flat.setdefault(f"stream {out.get('name', 'stdout')}", []).append(sanitize(out["text"]))
        elif out.get("output_type") == "error":
            flat.setdefault("error", []).append(f"{out.get('ename')}: {out.get('evalue')}")
        else:
            for mime, value in out.get("data", {}).items():
                if mime in skip or mime.startswith("application/vnd.jupyter.widget"):
                    continue
                text = value if isinstance(value, str) else "".join(value) if isinstance(value, list) \
                    else repr(value)
                flat.setdefault(mime, []).append(sanitize(text))
    return flat


def compare_outputs(stored_outputs, fresh_outputs, tolerances: Tolerances, sanitize=lambda s: s,
                    skip=("image/png", "image/jpeg")) -> list[str]:
    """Differences between a cell's stored and replayed outputs (empty: they agree)."""
    stored = flatten_outputs(stored_outputs, skip, sanitize)
    fresh = flatten_outputs(fresh_outputs, skip, sanitize)
    if stored.keys() != fresh.keys():
        return [f"output kinds differ: stored {sorted(stored)}, replay {sorted(fresh)}"]
    problems = []
    for kind in stored:
        if len(stored[kind]) != len(fresh[kind]):
            problems.append(f"{kind}: {len(stored[kind])} stored outputs, {len(fresh[kind])} in the replay")
            continue
        for i, (s, f) in enumerate(zip(stored[kind], fresh[kind])):
            problems += compare_texts(s, f, tolerances, f"{kind} #{i + 1}")
    return problems
