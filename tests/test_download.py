"""download() and datasets.download_file(): a local HTTP server stands in for storage.googleapis.com."""
import hashlib
import http.server
import threading

import numpy as np
import pytest

from np_lib.datasets import download_file
from np_lib.nasbench101.fetch import OFFICIAL_URL, ChecksumError, default_destination, download

BLOB = np.random.default_rng(0).bytes(300_000)
SHA256 = hashlib.sha256(BLOB).hexdigest()


class Server:
    """Serves BLOB at /nasbench_only108.tfrecord, honouring Range or not; records what it was asked and sent."""

    def __init__(self, supports_range: bool, stop_after: int | None = None, status: int | None = None,
                 close_delimited: bool = False):
        self.supports_range = supports_range
        self.status = status  # answer every request with this error status
        self.close_delimited = close_delimited  # no Content-Length: the body ends when the connection does
        self.stop_after = stop_after  # close the connection after this many body bytes
        self.ranges: list = []
        self.sent = 0
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                requested = self.headers.get("Range")
                owner.ranges.append(requested)
                if owner.status is not None:
                    self.send_error(owner.status)
                    return
                start = int(requested[len("bytes="):-1]) if requested and owner.supports_range else 0
                if start >= len(BLOB) and requested:
                    self.send_response(416)
                    self.send_header("Content-Range", f"bytes */{len(BLOB)}")
                    self.end_headers()
                    return
                body = BLOB[start:]
                self.send_response(206 if start else 200)
                if start:
                    self.send_header("Content-Range", f"bytes {start}-{len(BLOB) - 1}/{len(BLOB)}")
                if owner.close_delimited:
                    self.send_header("Connection", "close")
                else:
                    self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if owner.stop_after is not None:
                    body = body[:owner.stop_after]
                owner.sent += len(body)  # before writing: the client may finish before this thread resumes
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/nasbench_only108.tfrecord"
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server(request):
    s = Server(**getattr(request, "param", {"supports_range": True}))
    yield s
    s.close()


def fetch(server, dest, sha256=SHA256):
    return download(dest, url=server.url, sha256=sha256, progress=False, chunk_size=8192, timeout=10)


def test_download_verifies_and_moves_into_place(server, tmp_path):
    dest = tmp_path / "nasbench101" / "nasbench_only108.tfrecord"
    assert fetch(server, dest) == dest
    assert dest.read_bytes() == BLOB
    assert not dest.with_name(dest.name + ".part").exists()
    assert server.ranges == [None] and server.sent == len(BLOB)
    # Present and verified: nothing is downloaded again.
    assert fetch(server, dest) == dest and len(server.ranges) == 1


def test_default_destination_is_in_the_data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("NP_LIB_DATA_DIR", str(tmp_path))
    assert default_destination() == tmp_path / "nasbench101" / "nasbench_only108.tfrecord"
    assert OFFICIAL_URL.endswith("/nasbench/nasbench_only108.tfrecord")


def test_checksum_mismatch_deletes_the_part_file(server, tmp_path):
    dest = tmp_path / "x.tfrecord"
    wrong = "0" * 64
    with pytest.raises(ChecksumError, match=f"expected {wrong}, actual {SHA256}") as error:
        fetch(server, dest, sha256=wrong)
    assert isinstance(error.value, ValueError)
    assert not dest.exists() and not dest.with_name(dest.name + ".part").exists()


def test_existing_file_with_wrong_content_is_not_overwritten(server, tmp_path):
    dest = tmp_path / "x.tfrecord"
    dest.write_bytes(b"someone else's file")
    with pytest.raises(ChecksumError, match=f"expected {SHA256}"):
        fetch(server, dest)
    assert dest.read_bytes() == b"someone else's file" and server.ranges == []


def test_resume_with_range_request(server, tmp_path):
    dest = tmp_path / "x.tfrecord"
    have = 123_457
    dest.with_name(dest.name + ".part").write_bytes(BLOB[:have])
    fetch(server, dest)
    assert dest.read_bytes() == BLOB
    assert server.ranges == [f"bytes={have}-"]
    assert server.sent == len(BLOB) - have


@pytest.mark.parametrize("server", [{"supports_range": False}], indirect=True)
def test_server_ignoring_range_restarts(server, tmp_path):
    dest = tmp_path / "x.tfrecord"
    dest.with_name(dest.name + ".part").write_bytes(BLOB[:1000])
    fetch(server, dest)
    assert dest.read_bytes() == BLOB
    assert server.ranges == ["bytes=1000-"] and server.sent == len(BLOB)


def test_complete_part_file_is_just_verified(server, tmp_path):
    dest = tmp_path / "x.tfrecord"
    dest.with_name(dest.name + ".part").write_bytes(BLOB)
    fetch(server, dest)  # the server answers 416: nothing left to send
    assert dest.read_bytes() == BLOB and server.sent == 0


def test_corrupt_part_file_fails_verification_and_is_deleted(server, tmp_path):
    dest = tmp_path / "x.tfrecord"
    part = dest.with_name(dest.name + ".part")
    part.write_bytes(b"\0" * 1000)
    with pytest.raises(ChecksumError, match="deleted"):
        fetch(server, dest)
    assert not part.exists()
    fetch(server, dest)  # and the next attempt starts afresh
    assert dest.read_bytes() == BLOB


@pytest.mark.parametrize("server", [{"supports_range": True, "stop_after": 100_000}], indirect=True)
def test_dropped_connection_keeps_the_part_file_for_resuming(server, tmp_path):
    dest = tmp_path / "x.tfrecord"
    part = dest.with_name(dest.name + ".part")
    with pytest.raises(ConnectionError, match="stopped at 100,000 of 300,000 bytes"):
        fetch(server, dest)
    assert part.stat().st_size == 100_000 and not dest.exists()
    server.stop_after = None
    fetch(server, dest)
    assert dest.read_bytes() == BLOB
    assert server.ranges == [None, "bytes=100000-"] and server.sent == len(BLOB)


# --- issue 14 item 4: nothing unverified, short or over-long is ever installed --------

@pytest.mark.parametrize("bad", [None, "", "abc", SHA256.upper(), SHA256[:-1] + "g", SHA256 + "0"])
def test_missing_or_malformed_sha256_is_rejected_before_any_byte(server, tmp_path, bad):
    dest = tmp_path / "x.tfrecord"
    with pytest.raises(ValueError, match="64 lower-case hex digits"):
        fetch(server, dest, sha256=bad)
    assert server.ranges == [] and not list(tmp_path.iterdir())


def test_bad_size_or_scheme_is_rejected_before_any_byte(server, tmp_path):
    with pytest.raises(ValueError, match="size"):
        download_file(server.url, tmp_path / "x", SHA256, size=-1, progress=False)
    with pytest.raises(ValueError, match="only http"):
        download_file("ftp://127.0.0.1/x", tmp_path / "x", SHA256, progress=False)
    assert server.ranges == [] and not list(tmp_path.iterdir())


@pytest.mark.parametrize("server", [{"supports_range": True, "status": 404}], indirect=True)
def test_404_leaves_no_part_file(server, tmp_path):
    dest = tmp_path / "x.tfrecord"
    with pytest.raises(ConnectionError, match="HTTP 404"):
        fetch(server, dest)
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("server", [{"supports_range": True, "stop_after": 100_000, "close_delimited": True}],
                         indirect=True)
def test_close_delimited_early_eof_is_never_installed(server, tmp_path):
    # Without Content-Length a cut-short body looks complete to http.client: only the sum catches it.
    dest = tmp_path / "x.tfrecord"
    with pytest.raises(ChecksumError, match="deleted"):
        fetch(server, dest)
    assert not list(tmp_path.iterdir())


def test_part_longer_than_the_file_is_discarded_not_installed(server, tmp_path):
    dest = tmp_path / "x.tfrecord"
    part = dest.with_name(dest.name + ".part")
    part.write_bytes(BLOB + b"trailing junk")
    download_file(server.url, dest, SHA256, size=len(BLOB), progress=False, chunk_size=8192, timeout=10)
    assert dest.read_bytes() == BLOB and not part.exists()
    assert server.ranges == [None]  # restarted from byte 0, not resumed past the end
