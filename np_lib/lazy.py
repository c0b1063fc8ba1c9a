"""Lazy package exports (PEP 562): a name's module is imported when the name is first used.

Packages that front heavy modules (torch, pandas) stay cheap to import, which matters for
the command line and for worker processes that only parse data files.
"""
from __future__ import annotations

import importlib
import sys


def exports(package: str, names: dict[str, str]):
    """``(__getattr__, __dir__)`` for ``package`` exporting each name from its submodule.

    ``names`` maps an exported name to the submodule (relative to ``package``) defining it.
    A name, once loaded, is stored on the package so later lookups are plain attributes.
    """
    def __getattr__(name):
        if name not in names:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f".{names[name]}", package), name)
        setattr(sys.modules[package], name, value)
        return value

    def __dir__():
        return sorted(set(vars(sys.modules[package])) | set(names))

    return __getattr__, __dir__
