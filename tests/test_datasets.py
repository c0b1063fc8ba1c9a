"""The dataset registry, locate(), status(), fetch() through a mirror, and the CLI.

The mirror is real: an ``http.server`` on 127.0.0.1 serving the data
directory's files laid out as HOST/PATH (and the same folder as ``file://``).
"""
import functools
import hashlib
import http.server
import os
import re
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from np_lib import datasets
from np_lib.datasets import REGISTRY, DatasetCorrupt, DatasetMissing, fetch, locate, status

SHARED = Path(os.environ.get("NP_LIB_DATA_DIR", "")) if os.environ.get("NP_LIB_DATA_DIR") else None
needs_data = pytest.mark.skipif(
    SHARED is None or not (SHARED / "nasbench101" / "data-20k.json").is_file(),
    reason="needs NP_LIB_DATA_DIR pointing at a folder holding the datasets")
LIGHT_SMALL = ["proxylessnas", "nas-bench-macro"]  # 1.2 MB in 3 files: quick to fetch in tests


def test_registry_names_and_layout():
    assert list(REGISTRY) == ["nasbench101-sample", "nasbench101-official", "nasbench201", "nasbench201-latency",
                              "proxylessnas", "ofa-mbv3", "nas-bench-macro"]
    paths = [f.path for d in REGISTRY.values() for f in d.files]
    assert len(paths) == len(set(paths)) == 40
    for d in REGISTRY.values():
        assert d.description and d.licence and d.citation and d.used_by
        for f in d.files:
            assert re.fullmatch(r"[0-9a-f]{64}", f.sha256)
            assert f.url.startswith("https://") and f.url.endswith(f.basename)
            # Pinned addresses only: a branch name would let the bytes change under the sum.
            assert "storage.googleapis.com" in f.url or re.search(r"/[0-9a-f]{40}/", f.url)
    assert datasets.LIGHT == tuple(n for n in REGISTRY if n != "nasbench101-official")
    assert "nasbench101_sample20k.csv" not in str(paths)  # no public address: not a registry file


def _readme_sums(folder: Path) -> dict[str, str]:
    """(basename-ish key -> sum) for every ``name ... sha256 `HEX``` or ``- `name`: `HEX``` in a README."""
    text = (folder / "README.md").read_text()
    sums = {}
    for m in re.finditer(r"`([\w./-]+)`[^`\n]*?(?:sha256 |: )`([0-9a-f]{64})`", text):
        sums[m.group(1)] = m.group(2)
    return sums


@needs_data
def test_registry_sums_equal_the_readmes_and_the_files():
    checked = 0
    top = (SHARED / "README.md").read_text()
    for d in REGISTRY.values():
        for f in d.files:
            folder = SHARED / f.path.split("/")[0]
            sums = _readme_sums(folder)
            rel = f.path.split("/", 1)[1]
            if rel in sums:  # the README states this file's sum: it must be the registry's
                assert sums[rel] == f.sha256, f.path
                checked += 1
            if d.name == "nasbench101-official":
                assert f.sha256 in top and f.url in top
                continue
            assert f.size == (SHARED / f.path).stat().st_size, f.path
            assert datasets.sha256_of(SHARED / f.path) == f.sha256, f.path
    # The folder READMEs state 34 of the 39 mirrored files' sums (not the 5 Note10 tables, whose
    # sums come from the files); the official file's sum is in the top README.
    assert checked == 34


@needs_data
def test_every_public_address_is_the_readme_one():
    top = (SHARED / "README.md").read_text().replace("RAW/", datasets.RAW + "/")
    for d in REGISTRY.values():
        for f in d.files:
            url = f.url
            if "/nasbench201/latency/" in url:
                url = url.rsplit("/", 1)[0] + "/<device>.pt"
            if "/ofa/note10/" in url:
                url = url.rsplit("/", 1)[0] + "/<size>_lookup_table.yaml"
            assert url in top, f.path


# --- locate ----------------------------------------------------------------------

def test_locate_missing_names_the_path_and_the_command(tmp_path):
    with pytest.raises(DatasetMissing) as e:
        locate("nas-bench-macro", data_dir=tmp_path)
    message = str(e.value)
    assert isinstance(e.value, FileNotFoundError)
    assert str(tmp_path / "nas_bench_macro" / "nas-bench-macro_cifar10.json") in message
    assert "`python -m np_lib fetch nas-bench-macro`" in message
    assert "shared" not in message.lower()


def test_locate_file_choice(tmp_path):
    with pytest.raises(ValueError, match="has 27 files"):
        locate("nasbench201-latency", data_dir=tmp_path)
    with pytest.raises(ValueError, match="no file named 'nope.pt'"):
        locate("nasbench201-latency", "nope.pt", data_dir=tmp_path)
    with pytest.raises(ValueError, match="no dataset named 'nasbench-1o1'"):
        locate("nasbench-1o1", data_dir=tmp_path)
    target = tmp_path / "nasbench201" / "latency" / "pixel3.pt"
    target.parent.mkdir(parents=True)
    target.write_bytes(b"x")
    assert locate("nasbench201-latency", "pixel3.pt", data_dir=tmp_path) == target
    assert locate("nasbench201-latency", "nasbench201/latency/pixel3.pt", data_dir=tmp_path) == target


def test_locate_default_is_the_data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("NP_LIB_DATA_DIR", str(tmp_path))
    with pytest.raises(DatasetMissing, match=re.escape(str(tmp_path.resolve()))):
        locate("proxylessnas", "mobile_trim.yaml")


@needs_data
def test_locate_verify_catches_a_corrupt_file_and_memoises(tmp_path):
    entry = REGISTRY["proxylessnas"].file("mobile_trim.yaml")
    dest = tmp_path / entry.path
    dest.parent.mkdir(parents=True)
    shutil.copyfile(SHARED / entry.path, dest)
    assert locate("proxylessnas", "mobile_trim.yaml", data_dir=tmp_path, verify=True) == dest
    data = bytearray(dest.read_bytes())
    data[100] ^= 1  # one flipped bit, same size
    dest.write_bytes(bytes(data))
    os.utime(dest, ns=(1, 1))  # a new mtime either way: the memo must not hide the change
    with pytest.raises(DatasetCorrupt) as e:
        locate("proxylessnas", "mobile_trim.yaml", data_dir=tmp_path, verify=True)
    actual = hashlib.sha256(bytes(data)).hexdigest()
    assert isinstance(e.value, ValueError)
    assert str(dest) in str(e.value) and entry.sha256 in str(e.value) and actual in str(e.value)
    assert locate("proxylessnas", "mobile_trim.yaml", data_dir=tmp_path) == dest  # verify=False: found


# --- fetch through a mirror ------------------------------------------------------

class MirrorServer:
    """http.server over a HOST/PATH folder; ``die_after`` bytes cuts every body short (a server dying mid-file)."""

    def __init__(self, root: Path, die_after: int | None = None):
        owner = self
        self.die_after = die_after
        self.requests: list[str] = []

        class Handler(http.server.SimpleHTTPRequestHandler):
            def do_GET(self):
                owner.requests.append(self.path)
                if owner.die_after is None:
                    return super().do_GET()
                path = Path(self.translate_path(self.path))
                body = path.read_bytes()
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body[:owner.die_after])
                self.close_connection = True

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=str(root)))
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def mirror_root(tmp_path):
    if SHARED is None:
        pytest.skip("needs NP_LIB_DATA_DIR")
    root = tmp_path / "mirror"
    made = datasets.build_mirror(SHARED, root, LIGHT_SMALL)
    assert len(made) == 3
    return root


@pytest.fixture
def served(mirror_root):
    server = MirrorServer(mirror_root)
    yield server
    server.close()


def _only_registry_files(folder: Path, names) -> None:
    """No .part, no temp file: exactly the registry files of ``names``."""
    found = sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())
    assert found == sorted(f.path for n in names for f in REGISTRY[n].files)


def test_fetch_through_an_http_mirror_is_byte_identical(served, tmp_path, monkeypatch):
    monkeypatch.setenv("NP_LIB_MIRROR", served.url)
    target = tmp_path / "data"
    lines = []
    paths = fetch(LIGHT_SMALL, target, progress=False, log=lines.append)
    assert paths == [target / f.path for n in LIGHT_SMALL for f in REGISTRY[n].files]
    for p in paths:
        assert p.read_bytes() == (SHARED / p.relative_to(target)).read_bytes()
    _only_registry_files(target, LIGHT_SMALL)
    assert len(served.requests) == 3 and served.requests[0].startswith("/raw.githubusercontent.com/han-cai/")
    assert all(line.startswith("downloaded") for line in lines)
    # Again: everything verified, nothing downloaded.
    lines.clear()
    fetch(LIGHT_SMALL, target, progress=False, log=lines.append)
    assert len(served.requests) == 3 and all(line.startswith("verified") for line in lines)
    assert all(s.state == "verified" for s in status(target, LIGHT_SMALL))


def test_fetch_through_a_file_mirror(mirror_root, tmp_path, monkeypatch):
    monkeypatch.setenv("NP_LIB_MIRROR", mirror_root.as_uri())
    target = tmp_path / "data"
    for p in fetch("nas-bench-macro", target, progress=False):
        assert p.read_bytes() == (SHARED / p.relative_to(target)).read_bytes()
    _only_registry_files(target, ["nas-bench-macro"])


def test_corrupt_file_on_the_mirror_is_not_installed(mirror_root, tmp_path, monkeypatch):
    entry = REGISTRY["nas-bench-macro"].file()
    on_mirror = next(mirror_root.rglob(entry.basename))
    data = on_mirror.read_bytes()
    on_mirror.unlink()
    on_mirror.write_bytes(data[:1000] + b"X" + data[1001:])  # same size, one byte changed
    monkeypatch.setenv("NP_LIB_MIRROR", mirror_root.as_uri())
    with pytest.raises(DatasetCorrupt, match=f"sha256 expected {entry.sha256}, actual "):
        fetch("nas-bench-macro", tmp_path / "data", progress=False)
    assert not any(p.is_file() for p in (tmp_path / "data").rglob("*"))


def test_wrong_checksum_in_the_registry_is_caught(served, tmp_path, monkeypatch):
    entry = REGISTRY["nas-bench-macro"].file()
    wrong = datasets.DatasetFile(entry.path, entry.url, "0" * 64, entry.size)
    monkeypatch.setitem(REGISTRY, "nas-bench-macro",
                        datasets.Dataset(**{**REGISTRY["nas-bench-macro"].__dict__, "files": (wrong,)}))
    monkeypatch.setenv("NP_LIB_MIRROR", served.url)
    with pytest.raises(DatasetCorrupt, match="expected 0{64}, actual " + entry.sha256):
        fetch("nas-bench-macro", tmp_path / "data", progress=False)
    assert not any(p.is_file() for p in (tmp_path / "data").rglob("*"))


def test_404_on_the_mirror(served, tmp_path, monkeypatch):
    monkeypatch.setenv("NP_LIB_MIRROR", served.url + "/not-laid-out-here")
    with pytest.raises(ConnectionError, match="HTTP 404"):
        fetch("nas-bench-macro", tmp_path / "data", progress=False)
    assert not any(p.is_file() for p in (tmp_path / "data").rglob("*"))


def test_server_dying_mid_file_installs_nothing_and_resumes(mirror_root, tmp_path, monkeypatch):
    server = MirrorServer(mirror_root, die_after=50_000)
    try:
        monkeypatch.setenv("NP_LIB_MIRROR", server.url)
        target = tmp_path / "data"
        entry = REGISTRY["nas-bench-macro"].file()
        with pytest.raises(ConnectionError, match=f"stopped at 50,000 of {entry.size:,} bytes"):
            fetch("nas-bench-macro", target, progress=False)
        assert not (target / entry.path).exists()
        assert (target / (entry.path + ".part")).stat().st_size == 50_000  # kept only to resume from
        with pytest.raises(DatasetMissing):
            locate("nas-bench-macro", data_dir=target)
    finally:
        server.close()
    # The plain http.server ignores Range (answers 200): the download restarts and completes.
    good = MirrorServer(mirror_root)
    try:
        monkeypatch.setenv("NP_LIB_MIRROR", good.url)
        fetch("nas-bench-macro", target, progress=False)
    finally:
        good.close()
    _only_registry_files(target, ["nas-bench-macro"])


def test_missing_mirror(tmp_path, monkeypatch):
    monkeypatch.setenv("NP_LIB_MIRROR", (tmp_path / "no-such-mirror").as_uri())
    with pytest.raises(FileNotFoundError, match="the mirror has no file"):
        fetch("nas-bench-macro", tmp_path / "data", progress=False)
    assert not any(p.is_file() for p in (tmp_path / "data").rglob("*"))
    # An http mirror nobody listens on: a clear ConnectionError, not a hang.
    with socket_free_port() as port:
        monkeypatch.setenv("NP_LIB_MIRROR", f"http://127.0.0.1:{port}")
    with pytest.raises(ConnectionError, match="cannot download http://127.0.0.1"):
        fetch("nas-bench-macro", tmp_path / "data", progress=False)
    monkeypatch.setenv("NP_LIB_MIRROR", "ftp://example.org")
    with pytest.raises(ValueError, match="NP_LIB_MIRROR must be"):
        fetch("nas-bench-macro", tmp_path / "data", progress=False)
    assert not any(p.is_file() for p in (tmp_path / "data").rglob("*"))


class socket_free_port:
    def __enter__(self):
        import socket

        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        return self.sock.getsockname()[1]

    def __exit__(self, *exc):
        self.sock.close()


def test_bad_names_fail_before_fetching(tmp_path):
    with pytest.raises(ValueError, match="no dataset named 'x'"):
        fetch(["nas-bench-macro", "x"], tmp_path / "data", progress=False)
    with pytest.raises(ValueError, match="at least one"):
        fetch([], tmp_path / "data", progress=False)
    assert not (tmp_path / "data").exists()


# --- the CLI ---------------------------------------------------------------------

def _cli(*args, env=None):
    return subprocess.run([sys.executable, "-m", "np_lib", *args], capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=120)


def test_cli_fetch_and_datasets_report_a_corrupt_file(served, tmp_path):
    target = tmp_path / "data"
    run = _cli("fetch", "--quiet", "--data-dir", str(target), *LIGHT_SMALL, env={"NP_LIB_MIRROR": served.url})
    assert run.returncode == 0, run.stderr
    assert "downloaded  proxylessnas/mobile_trim.yaml" in run.stdout and "3 files" in run.stdout
    listing = _cli("datasets", "--data-dir", str(target))
    assert listing.returncode == 0
    row = {line.split()[0]: line for line in listing.stdout.splitlines()[2:]}
    assert "verified" in row["proxylessnas"] and "1 missing" in row["nasbench101-sample"]
    (target / "proxylessnas" / "mobile_trim.yaml").write_bytes(b"not a table")
    listing = _cli("datasets", "--data-dir", str(target))
    assert listing.returncode == 1
    assert "1 corrupt" in listing.stdout and "corrupt: proxylessnas/mobile_trim.yaml" in listing.stdout
    refetch = _cli("fetch", "--quiet", "--data-dir", str(target), "proxylessnas", env={"NP_LIB_MIRROR": served.url})
    assert refetch.returncode == 1 and "mobile_trim.yaml is already there but is not" in refetch.stderr
    assert (target / "proxylessnas" / "mobile_trim.yaml").read_bytes() == b"not a table"  # never overwritten


def test_cli_unknown_name():
    run = _cli("fetch", "nope")
    assert run.returncode == 2 and "no dataset named 'nope'" in run.stderr


def test_no_message_mentions_a_shared_data_folder():
    package = Path(datasets.__file__).parent
    for path in package.rglob("*.py"):
        for line in path.read_text().splitlines():
            if re.search(r"shared data|shared/data|shared folder", line, re.I):
                pytest.fail(f"{path.name}: {line.strip()}")


@pytest.mark.parametrize("load, name", [
    ("np_lib.spaces.proxylessnas:ProxylessNAS", "proxylessnas"),
    ("np_lib.spaces.proxylessnas:read_config", "proxylessnas"),
    ("np_lib.spaces.ofa:OFAMobileNetV3", "ofa-mbv3"),
    ("np_lib.spaces.macro:NASBenchMacro", "nas-bench-macro"),
])
def test_loaders_never_download_and_name_the_fetch_command(tmp_path, monkeypatch, load, name):
    import importlib

    module, attr = load.split(":")
    monkeypatch.setenv("NP_LIB_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("NP_LIB_MIRROR", "http://127.0.0.1:9")  # were anything fetched, it would fail differently
    with pytest.raises(DatasetMissing, match=f"`python -m np_lib fetch {name}`"):
        getattr(importlib.import_module(module), attr)()
    assert not any(tmp_path.iterdir())
