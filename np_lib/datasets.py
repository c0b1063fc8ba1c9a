"""The datasets np_lib runs on: where each comes from, how to get it, how to find it.

One table, :data:`REGISTRY`, names every public file the notebooks and loaders
read, with its public address (pinned to a commit, so the bytes never change),
sha256 and size. Everything else works from it:

* :func:`locate` finds a file in the data directory (``np_lib.storage.data_dir()``)
  and, if asked, checks its sha256. Loaders call it and never download: a
  missing file raises :class:`DatasetMissing`, whose message gives the exact
  ``python -m np_lib fetch NAME`` command; a file with the wrong content raises
  :class:`DatasetCorrupt`.
* :func:`fetch` downloads the named datasets into the data directory, verifying
  every file (also those already there). ``NP_LIB_MIRROR`` redirects every
  ``https://HOST/PATH`` to ``$NP_LIB_MIRROR/HOST/PATH`` (an ``http://`` server
  or a ``file://`` folder laid out that way), for machines without internet.
* :func:`status` reports, per file, whether it is verified, missing or corrupt.

Downloads use the standard library (``urllib``), not pooch, which issue 11
suggested: pooch 1.9.0's downloaders (HTTP, FTP, SFTP, DOI; read in its
``downloaders.py``) send no Range header, so an interrupted 499 MB official
NAS-Bench-101 download would restart from byte 0, and they accept no
``file://`` URL, which the offline mirror needs; pooch would also add requests
and platformdirs for what ~100 lines here do. How a download stays safe:

* the expected sha256 is checked for form (64 hex digits) before any byte is
  fetched; there is no way to install a file without a sum;
* bytes go to ``<file>.part``; a file is moved to its place (``os.replace``)
  only when its size and sha256 are the registry's, so a reader never sees a
  half-written or wrong file;
* an interrupted download keeps its ``.part`` and is resumed from its length
  on the next fetch; a ``.part`` longer than the file, or one whose sum turns
  out wrong, is deleted (resuming it could never repair it);
* an HTTP error (e.g. 404) leaves no ``.part`` behind unless it holds resumable
  bytes from an earlier attempt.
"""
from __future__ import annotations

import hashlib
import os
import re
import shutil
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from .storage import DATA_DIR_ENV
from .storage import data_dir as default_data_dir

MIRROR_ENV = "NP_LIB_MIRROR"
RAW = "https://raw.githubusercontent.com"
_HAN_CAI = f"{RAW}/han-cai/files/a7c9bcd525e17404968bc55aa43772bf7e51909e"
_HELP = f"{RAW}/HayeonLee/HELP/45f70eb92d0d735970a33b608d1544ad3c52f285/data/nasbench201"
_SHA256 = re.compile(r"[0-9a-f]{64}")


def _check_sha256(sha256, what) -> None:
    if not isinstance(sha256, str) or not _SHA256.fullmatch(sha256):
        raise ValueError(f"sha256 for {what} must be 64 lower-case hex digits, got {sha256!r}")


@dataclass(frozen=True)
class DatasetFile:
    """One public file: ``path`` (POSIX, relative to the data directory), its address, sum and size.

    ``size`` is in bytes; None only where the publisher states no size (the
    official NAS-Bench-101 file), in which case the sha256 alone decides.
    """

    path: str
    url: str
    sha256: str
    size: int | None

    def __post_init__(self):
        _check_sha256(self.sha256, self.path)
        posix = PurePosixPath(self.path)
        if posix.is_absolute() or ".." in posix.parts:
            raise ValueError(f"a registry path must be relative, without '..': {self.path!r}")

    @property
    def basename(self) -> str:
        return PurePosixPath(self.path).name


@dataclass(frozen=True)
class Dataset:
    """A named group of files fetched together (``python -m np_lib fetch NAME``)."""

    name: str
    description: str
    licence: str
    citation: str
    used_by: tuple[str, ...]
    files: tuple[DatasetFile, ...]
    light: bool = True  # fetched by ``fetch all`` and by Binder; False only for the 499 MB official file

    @property
    def size(self) -> int | None:
        """Total bytes, or None if a file's size is not known."""
        sizes = [f.size for f in self.files]
        return None if None in sizes else sum(sizes)

    def file(self, file: str | None = None) -> DatasetFile:
        """The file with registry path (or unique basename) ``file``; None = the only file."""
        if file is None:
            if len(self.files) != 1:
                raise ValueError(f"dataset {self.name!r} has {len(self.files)} files; name one of: "
                                 + ", ".join(f.path for f in self.files))
            return self.files[0]
        matches = [f for f in self.files if f.path == file] or [f for f in self.files if f.basename == file]
        if len(matches) != 1:
            what = "no file" if not matches else "several files"
            raise ValueError(f"dataset {self.name!r} has {what} named {file!r}; its files: "
                             + ", ".join(f.path for f in self.files))
        return matches[0]


_NB201_LATENCY = {  # device -> (sha256, size); from nasbench201/README.md of the mirror
    "pixel3": ("cf1387da12e06b1d4541ce85f3ca4869d551084e09daf4acf024b6e21a80d465", 141039),
    "raspi4": ("2fae425c50bcaef7aacc5391244cd0af98bfc7fba689a8741e461cb18192f57c", 141039),
    "fpga": ("6a0333c1476a3ab039d8c39e5d42ac99efe9e7f3ff521289569013fa84233b28", 141039),
    "eyeriss": ("6f1dd2f8c0442289a09ab78e63e49bde96489f6d455cc33d5fa5aed37edb5d03", 141039),
    "pixel2": ("051845ddefc2bc138f21e2217f6c7827fe280c78375cbfb4b5bd252a888cb950", 31663),
    "samsung_a50": ("0872cb4ec8ecc7ea1b3bd8c98dd705f2d0f6e4940f3af833b313e484de39b155", 31663),
    "samsung_s7": ("dbae32364b882022adb044b2aa1af77b66f43a180930d9be4d4c13532429f0ea", 31663),
    "essential_ph_1": ("a97165c8669a216b9ca046041c83a07352bd07f2a42e2d8fea8b51e7ddbcabf0", 31663),
    "gold_6226": ("6a00f63d14f67f8007ec04519f638a90aa6ed5357cf5c0e60c391df37f186c99", 141039),
    "gold_6240": ("ac6dd41f183de69bba21dec3954ac73333b7dec871e0defbcce0572d82536890", 141039),
    "silver_4114": ("0cce9dc9ba62ad81c21275298a88cb0e4534db6474a878f089df0abb13293421", 141039),
    "silver_4210r": ("f976049bda39abde94b8f8cac90140cb78a5069fc145c462d6d6bc2f8450727a", 141039),
    "1080ti_1": ("4028f52b2c2441da126932e3827ae11a7f76d39818c4374c1b9ab9df236e23f4", 141039),
    "1080ti_32": ("affce4fcdcf6f28622365995ef2ec018bb07d448add59f80633c0978c393cdea", 141039),
    "1080ti_256": ("435af0ccfab01f5dc55dc9f2e8b90ca37b396b2656e327bba5ee0b6eb9c24464", 141039),
    "2080ti_1": ("38cf0e8f698abf8696c69b41a358fe9ddedf5d54cb1ae6f85b04dd8a8f89a1b3", 141039),
    "2080ti_32": ("ebc603ad325850663fc56c8e0fde52fadea28e585a8405864baa20f986eaf29d", 141039),
    "2080ti_256": ("daee655c44c46955d8318ddf0fa39254e70bab1ae723a6abc53d7b7e4e1561ae", 141039),
    "titanx_1": ("3461cc686263bd0ce4d4cd915bfc2fe067deb139cc68da387741bd6443434cb0", 141039),
    "titanx_32": ("9c4ca69131e34451fb1e104caa47efbe12ffec3cc47bf051613674d7af044ff2", 141039),
    "titanx_256": ("04ddb80719515687bd3d722235cd5da821b50bd453a9e580b1e9d321dfb92941", 141039),
    "titanxp_1": ("935aa0041c6592bed90f2f94ff3b4d40e892c066467864b704e6583682a57b20", 141039),
    "titanxp_32": ("4b6db63c7a9fb55177aa2649d70031dd86d2ed1609467ef5803dc1089a73cb1b", 141039),
    "titanxp_256": ("9f03206bc62b0dcfc882820de07f55dc1fb7f43f57dfc977e4f0f4b019cb5041", 141039),
    "titan_rtx_1": ("a854dac331e2a37d7dcd6ee1f63d1bc6d73ead3aeb0a86f803f45ea1b294859e", 141039),
    "titan_rtx_32": ("1258bee5501fe191530b9898a4f55a122ab30beec9c6ea74598c47a0173babed", 141039),
    "titan_rtx_256": ("cff1fba40b1743d3716cfb74c86ac2463d0682c146f356fa9095ac0d02dfb2a5", 141039),
}

_NOTE10 = {  # input size -> (sha256, size); sums computed from the mirror's files
    160: ("a2671a45e9400542679ed03de946b45d6a35010f9ab21834af3e7ba8341d36d1", 15088),
    176: ("34223ae037d5719a5f33261bdfd9341f590a2999edf520f174309605dc06307c", 15047),
    192: ("0ff5ca0649e56ad34a42d6a8a6f20adb5121c8d12d135299397b310472db79e2", 15076),
    208: ("41aa63af766a8298354e6aa5ae69d512ac68656a6e7d0a4fa5dc725c8d438633", 15083),
    224: ("c13a9bcb3f4becae844bce4897129c4e42975984c1029cbd5acb48c970136530", 15007),
}

_DATASETS = (
    Dataset(
        name="nasbench101-sample",
        description="NAS-Bench-101: 20,001 cells (a uniform random sample of the 423,624, by module "
                    "hash) with ONE 108-epoch run's validation accuracy, training time and parameters; "
                    "no test accuracy. Graphs are recovered by enumerating the space",
        licence="ISC (nasbench-vis repository); numbers from NAS-Bench-101 (Apache-2.0)",
        citation="C. Ying et al., NAS-Bench-101: Towards Reproducible Neural Architecture Search, "
                 "ICML 2019; file from github.com/tiga1231/nasbench-vis",
        used_by=("np_lib.nasbench101.load", "notebooks 01, 02, 03, 04, 05, 10"),
        files=(DatasetFile(
            "nasbench101/data-20k.json",
            f"{RAW}/tiga1231/nasbench-vis/7aec0e76fbcd963371799af25f78223069897b58/static/data/data-20k.json",
            "7eaca9658aebf16443d3df5b38e61fe75d85787abc485cfc9a2088328443c3e9", 2_862_972),),
    ),
    Dataset(
        name="nasbench101-official",
        description="NAS-Bench-101, official 108-epoch file: all 423,624 cells, three training runs "
                    "each, validation and test accuracy (the paper's full setting)",
        licence="Apache-2.0 (NAS-Bench-101)",
        citation="C. Ying et al., NAS-Bench-101: Towards Reproducible Neural Architecture Search, ICML 2019",
        used_by=("np_lib.nasbench101.load (preferred when present)",),
        files=(DatasetFile(
            "nasbench101/nasbench_only108.tfrecord",
            "https://storage.googleapis.com/nasbench/nasbench_only108.tfrecord",
            "4c39c3936e36a85269881d659e44e61a245babcb72cb374eacacf75d0e5f4fd1", None),),
        light=False,
    ),
    Dataset(
        name="nasbench201",
        description="NAS-Bench-201: all 15,625 cells with CIFAR-10 validation and test accuracy "
                    "(200 epochs, mean over seeds), and the architecture-string index",
        licence="MIT (nas-without-training and HELP repositories)",
        citation="X. Dong, Y. Yang, NAS-Bench-201, ICLR 2020; accuracy table from J. Mellor et al., "
                 "Neural Architecture Search without Training, ICML 2021; index from H. Lee et al., "
                 "HELP, NeurIPS 2021",
        used_by=("np_lib.nasbench201.load", "notebooks 07, 08, 10"),
        files=(
            DatasetFile(
                "nasbench201/arch_score_acc.pd",
                f"{RAW}/BayesWatch/nas-without-training/a1aa24c257741db0a049e4f126be67ffb1adc2dc/results/"
                "arch_score_acc.pd",
                "b4c8100236e04f8229a551e509dca144005af15873c3230c980a99afee1569fd", 2_132_531),
            DatasetFile("nasbench201/str_arch2idx.pt", f"{_HELP}/str_arch2idx.pt",
                        "e1d7b7cc7cf51d7c3cd6f9e726e7395bea87d7ba674e26202fb8633f963aef0d", 1_536_943),
        ),
    ),
    Dataset(
        name="nasbench201-latency",
        description="Measured latency (ms) of all 15,625 NAS-Bench-201 cells on 27 devices "
                    "(phones, Raspberry Pi 4, FPGA/Eyeriss estimates, server CPUs, GPUs)",
        licence="MIT (HELP repository)",
        citation="H. Lee et al., HELP: Hardware-Adaptive Efficient Latency Prediction for NAS via "
                 "Meta-Learning, NeurIPS 2021; C. Li et al., HW-NAS-Bench, ICLR 2021",
        used_by=("np_lib.nasbench201 latency", "notebooks 07, 08"),
        files=tuple(DatasetFile(f"nasbench201/latency/{device}.pt", f"{_HELP}/latency/{device}.pt", sha, size)
                    for device, (sha, size) in _NB201_LATENCY.items()),
    ),
    Dataset(
        name="proxylessnas",
        description="ProxylessNAS mobile search space: per-layer latency lookup table (Pixel 1, ms) "
                    "and the released ProxylessNAS-Mobile architecture",
        licence="none stated (downloaded at run time by the MIT-licensed ProxylessNAS code)",
        citation="H. Cai, L. Zhu, S. Han, ProxylessNAS, ICLR 2019",
        used_by=("np_lib.spaces.proxylessnas", "notebooks 06, 08"),
        files=(
            DatasetFile("proxylessnas/mobile_trim.yaml", f"{_HAN_CAI}/proxylessnas/mobile_trim.yaml",
                        "087e855ea77f9b257e72f3637333a3e0938f6df77f579520f16d057ac45380aa", 10_504),
            DatasetFile("proxylessnas/proxyless_mobile.config", f"{_HAN_CAI}/proxylessnas/proxyless_mobile.config",
                        "eacb4259c46d97e8d47cd7920efe95b99e3004f3e97902c9b3ba80b2a414d8a6", 13_011),
        ),
    ),
    Dataset(
        name="ofa-mbv3",
        description="Once-for-All MobileNetV3 space: per-layer latency tables (Samsung Note10, inputs "
                    "160-224) and OFA's released accuracy predictor (an MLP surrogate of ImageNet top-1)",
        licence="none stated (downloaded at run time by the MIT-licensed Once-for-All code)",
        citation="H. Cai et al., Once-for-All: Train One Network and Specialize it for Efficient "
                 "Deployment, ICLR 2020",
        used_by=("np_lib.spaces.ofa", "notebook 06"),
        files=(DatasetFile("ofa_mbv3/acc_predictor.pth", f"{_HAN_CAI}/ofa/acc_predictor.pth",
                           "48685122a3540636b06699af66cd816456b25f29b69563e2fda9bed4018eeba0", 1_492_497),)
              + tuple(DatasetFile(f"ofa_mbv3/note10/{r}_lookup_table.yaml",
                                  f"{_HAN_CAI}/ofa/note10/{r}_lookup_table.yaml", sha, size)
                      for r, (sha, size) in _NOTE10.items()),
    ),
    Dataset(
        name="nas-bench-macro",
        description="NAS-Bench-Macro: all 6,561 architectures of an 8-layer MBConv chain, each "
                    "trained from scratch on CIFAR-10 with 3 seeds",
        licence="Apache-2.0",
        citation="X. Su et al., Prioritized Architecture Sampling with Monto-Carlo Tree Search, "
                 "CVPR 2021 (NAS-Bench-Macro)",
        used_by=("np_lib.spaces.macro", "notebooks 06, 09"),
        files=(DatasetFile(
            "nas_bench_macro/nas-bench-macro_cifar10.json",
            f"{RAW}/xiusu/NAS-Bench-Macro/61a2bfc2ca0dce04d0997e6cf498047c27d6acf2/data/nas-bench-macro_cifar10.json",
            "686dee8363cc21cca8c1f321ad5749454f2d9b9ca5972682e137e539bc522297", 1_178_821),),
    ),
)

REGISTRY: dict[str, Dataset] = {d.name: d for d in _DATASETS}
LIGHT = tuple(d.name for d in _DATASETS if d.light)


class DatasetMissing(FileNotFoundError):
    """A registry file is not in the data directory; the message names the fetch command."""


class DatasetCorrupt(ValueError):
    """A file's sha256 (or size) is not the registry's."""


def dataset(name: str) -> Dataset:
    """The registry entry ``name``; a ValueError listing the names otherwise."""
    try:
        return REGISTRY[name]
    except (KeyError, TypeError):
        raise ValueError(f"no dataset named {name!r}; known: {', '.join(REGISTRY)}") from None


def resolve_data_dir(data_dir) -> Path:
    """``data_dir`` as a Path, or :func:`np_lib.storage.data_dir` when None."""
    return Path(data_dir).expanduser() if data_dir is not None else default_data_dir()


def fetch_command(name: str) -> str:
    return f"python -m np_lib fetch {name}"


# --- checksums -------------------------------------------------------------------

_verified: dict[tuple[str, int, int], str] = {}  # (path, size, mtime_ns) -> sha256, for this process


def sha256_of(path: str | os.PathLike, chunk_size: int = 1 << 20) -> str:
    """The sha256 of a file's content, as 64 hex digits."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk_size):
            digest.update(block)
    return digest.hexdigest()


def _cached_sha256(path: Path) -> str:
    # Loaders verify on every call and sha256 is not free (benchmarks/README.md, "Checksums"),
    # so the sum is kept per (path, size, mtime_ns): a rewrite changes one of them.
    st = path.stat()
    key = (str(path.resolve()), st.st_size, st.st_mtime_ns)
    if key not in _verified:
        _verified[key] = sha256_of(path)
    return _verified[key]


def _problem(path: Path, entry: DatasetFile) -> str | None:
    """Why the file at ``path`` is not ``entry`` (size, then sum), or None if it is."""
    size = path.stat().st_size
    if entry.size is not None and size != entry.size:
        return f"it has {size:,} bytes, the registry says {entry.size:,}"
    actual = _cached_sha256(path)
    if actual != entry.sha256:
        return f"sha256 expected {entry.sha256}, actual {actual}"
    return None


# --- finding files ---------------------------------------------------------------

def locate(name: str, file: str | None = None, *, data_dir: str | os.PathLike | None = None,
           verify: bool = False) -> Path:
    """The path of dataset ``name``'s ``file`` in the data directory; never downloads.

    ``file`` is a registry path (``"nasbench201/latency/pixel3.pt"``) or its
    unique basename; None means the dataset's only file. ``data_dir`` defaults
    to :func:`np_lib.storage.data_dir`. A missing file raises
    :class:`DatasetMissing` naming the path looked at and the fetch command;
    ``verify=True`` also checks size and sha256 (memoised per path, size and
    mtime in this process) and raises :class:`DatasetCorrupt` on a mismatch.
    """
    entry = dataset(name).file(file)
    base = resolve_data_dir(data_dir)
    path = base / entry.path
    if not path.is_file():
        raise DatasetMissing(
            f"{entry.path} of dataset {name!r} is not in the data directory: no file at {path}. "
            f"Get it with `{fetch_command(name)}` (into {base}; set {DATA_DIR_ENV} to use another "
            f"folder, or {MIRROR_ENV} to fetch from a mirror).")
    if verify:
        problem = _problem(path, entry)
        if problem:
            raise DatasetCorrupt(f"{path} is not the registry's {entry.path} of dataset {name!r}: {problem}. "
                                 f"Delete it and run `{fetch_command(name)}`.")
    return path


@dataclass(frozen=True)
class FileStatus:
    dataset: str
    path: str
    state: str  # "verified", "missing" or "corrupt"
    detail: str = ""


def status(data_dir: str | os.PathLike | None = None, names=None) -> list[FileStatus]:
    """Per registry file (of ``names``, default all): verified, missing or corrupt (with why)."""
    base = resolve_data_dir(data_dir)
    out = []
    for name in expand_names(names if names is not None else list(REGISTRY)):
        for entry in REGISTRY[name].files:
            path = base / entry.path
            if not path.is_file():
                out.append(FileStatus(name, entry.path, "missing"))
                continue
            problem = _problem(path, entry)
            out.append(FileStatus(name, entry.path, "corrupt" if problem else "verified", problem or ""))
    return out


def expand_names(names) -> list[str]:
    """Dataset names, checked and de-duplicated; ``"all"`` means every light dataset."""
    if isinstance(names, str):
        names = [names]
    names = list(names)
    if not names:
        raise ValueError("name at least one dataset (or 'all')")
    if "all" in names:
        return list(LIGHT)
    for n in names:
        dataset(n)
    return list(dict.fromkeys(names))


# --- fetching --------------------------------------------------------------------

def mirror_url(url: str, mirror: str | None = None) -> str:
    """``url`` as fetched: ``https://HOST/PATH`` becomes ``MIRROR/HOST/PATH`` when a mirror
    (argument, else ``$NP_LIB_MIRROR``) is set; unchanged otherwise."""
    mirror = mirror if mirror is not None else os.environ.get(MIRROR_ENV)
    if not mirror:
        return url
    parts = urllib.parse.urlsplit(url)
    if urllib.parse.urlsplit(mirror).scheme not in ("http", "https", "file"):
        raise ValueError(f"{MIRROR_ENV} must be an http://, https:// or file:// URL, got {mirror!r}")
    return f"{mirror.rstrip('/')}/{parts.netloc}{parts.path}"


def build_mirror(source: str | os.PathLike, target: str | os.PathLike, names="all", *,
                 symlink: bool = True) -> list[Path]:
    """Lay out the files of ``names`` found in data directory ``source`` as ``target/HOST/PATH``,
    the layout ``NP_LIB_MIRROR`` expects (serve ``target`` over HTTP, or use ``file://target``).

    Each source file is verified first (:class:`DatasetCorrupt` otherwise); missing ones
    are skipped. Symlinks by default, copies with ``symlink=False``. Returns the mirror's files.
    """
    source, target = Path(source), Path(target)
    made = []
    for name in expand_names(names):
        for entry in REGISTRY[name].files:
            path = source / entry.path
            if not path.is_file():
                continue
            problem = _problem(path, entry)
            if problem:
                raise DatasetCorrupt(f"{path} cannot go into a mirror: {problem}")
            parts = urllib.parse.urlsplit(entry.url)
            out = target / parts.netloc / parts.path.lstrip("/")
            out.parent.mkdir(parents=True, exist_ok=True)
            if out.exists() or out.is_symlink():
                out.unlink()
            if symlink:
                out.symlink_to(path.resolve())
            else:
                shutil.copyfile(path, out)
            made.append(out)
    return made


def fetch(names, data_dir: str | os.PathLike | None = None, *, progress: bool = True,
          log=None) -> list[Path]:
    """Download datasets ``names`` (a name, a list, or ``"all"`` = every light dataset) into
    ``data_dir`` and verify every file; return the files' paths.

    Files already there are verified, not downloaded again; one with the wrong
    content raises :class:`DatasetCorrupt` and is left alone (it may be a file
    someone put there on purpose). ``log`` (e.g. ``print``) gets one line per file.
    """
    names = expand_names(names)
    base = resolve_data_dir(data_dir)
    mirror = os.environ.get(MIRROR_ENV) or None
    if mirror:
        mirror_url("https://example.org/x", mirror)  # a malformed mirror fails before any download
    log = log or (lambda message: None)
    paths = []
    for name in names:
        for entry in REGISTRY[name].files:
            dest = base / entry.path
            if dest.is_file():
                problem = _problem(dest, entry)
                if problem:
                    raise DatasetCorrupt(f"{dest} is already there but is not the registry's {entry.path} "
                                         f"of dataset {name!r}: {problem}. Delete it and fetch again.")
                log(f"verified    {entry.path}")
            else:
                url = mirror_url(entry.url, mirror)
                download_file(url, dest, entry.sha256, size=entry.size, progress=progress)
                log(f"downloaded  {entry.path}  from {url}")
            paths.append(dest)
    return paths


def download_file(url: str, dest: str | os.PathLike, sha256: str, *, size: int | None = None,
                  progress: bool = True, chunk_size: int = 1 << 20, timeout: float = 60) -> Path:
    """Download ``url`` to ``dest`` through ``<dest>.part`` (resumed with HTTP Range); install
    it only if its size (when given) and sha256 match. ``dest`` already there is verified
    instead (:class:`DatasetCorrupt` if it does not match; it is not overwritten)."""
    _check_sha256(sha256, url)
    if size is not None and (not isinstance(size, int) or size < 0):
        raise ValueError(f"size must be a non-negative int or None, got {size!r}")
    scheme = urllib.parse.urlsplit(url).scheme
    if scheme not in ("http", "https", "file"):
        raise ValueError(f"cannot download {url!r}: only http(s):// and file:// URLs")
    dest = Path(dest)
    entry = DatasetFile(dest.name, url, sha256, size)
    if dest.exists():
        problem = _problem(dest, entry)
        if problem:
            raise DatasetCorrupt(f"{dest} is already there and is not the file at {url}: {problem}")
        return dest
    part = dest.with_name(dest.name + ".part")
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        if size is not None and part.exists() and part.stat().st_size > size:
            part.unlink()  # longer than the file: no resume can repair it
    except OSError as e:
        raise PermissionError(f"cannot write {part} ({e.strerror}); set {DATA_DIR_ENV} to a writable "
                              "folder") from None
    try:
        if scheme == "file":
            _copy_local(url, part)
        else:
            _fetch_http(url, part, progress, chunk_size, timeout)
    except BaseException:
        # Keep a part file only if it holds bytes a later attempt can resume from.
        if part.exists() and part.stat().st_size == 0:
            part.unlink()
        raise
    problem = _problem(part, entry)
    if problem:
        part.unlink()
        raise DatasetCorrupt(f"the download of {url} is not the expected file: {problem} "
                             "(the download was deleted; run again to download afresh)")
    os.replace(part, dest)
    return dest


def _copy_local(url: str, part: Path) -> None:
    source = Path(urllib.request.url2pathname(urllib.parse.urlsplit(url).path))
    if not source.is_file():
        raise FileNotFoundError(f"the mirror has no file {source} (for {url})")
    shutil.copyfile(source, part)


def _fetch_http(url: str, part: Path, progress: bool, chunk_size: int, timeout: float) -> None:
    """Append the rest of ``url`` to ``part`` (or rewrite it if the server does not honour Range)."""
    from tqdm.auto import tqdm

    offset = part.stat().st_size if part.exists() else 0
    request = urllib.request.Request(url, headers={"Range": f"bytes={offset}-"} if offset else {})
    try:
        response = urllib.request.urlopen(request, timeout=timeout)
    except urllib.error.HTTPError as e:
        if e.code == 416 and offset:  # nothing past our end: the part is complete (its sum decides)
            return
        raise ConnectionError(f"cannot download {url}: HTTP {e.code} {e.reason}") from None
    except urllib.error.URLError as e:
        raise ConnectionError(f"cannot download {url}: {e.reason}") from None
    with response:
        resumed = bool(offset) and response.status == 206 and _range_start(response) == offset
        if not resumed:
            offset = 0
        length = response.headers.get("Content-Length")
        total = offset + int(length) if length is not None else None
        with open(part, "ab" if resumed else "wb") as f, \
                tqdm(total=total, initial=offset, unit="B", unit_scale=True, disable=not progress,
                     desc=f"downloading {part.name[:-len('.part')]}") as bar:
            while block := response.read(chunk_size):
                f.write(block)
                bar.update(len(block))
    # http.client returns short data, not an error, when a server closes early.
    if total is not None and part.stat().st_size < total:
        raise ConnectionError(f"download of {url} stopped at {part.stat().st_size:,} of {total:,} bytes; "
                              f"run again to resume from {part}")


def _range_start(response) -> int | None:
    match = re.match(r"bytes (\d+)-", response.headers.get("Content-Range", ""))
    return int(match.group(1)) if match else None
