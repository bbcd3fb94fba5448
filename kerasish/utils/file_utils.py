"""``keras.utils.get_file``, offline: the file Keras would have downloaded, from Keras's cache.

kerasish never downloads. ``get_file`` computes the very path Keras 3 saves a download at
(``$KERAS_HOME/<cache_subdir>/<fname>``, by default ``~/.keras/datasets``), checks the hash when
one is given, extracts archives as Keras does (members that would land outside the target folder
are skipped), and when the file is absent raises a FileNotFoundError that names the file, where
to put it and the URL it comes from.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import tarfile
import tempfile
import urllib.parse
import warnings
import zipfile

from ..datasets import _cache


def get_file(fname=None, origin=None, untar=False, md5_hash=None, file_hash=None,
             cache_subdir="datasets", hash_algorithm="auto", extract=False,
             archive_format="auto", cache_dir=None, force_download=False):
    """The local path of the file ``origin`` names, from Keras's cache (never downloaded).

    Args:
        fname: File name in the cache (default: the last part of ``origin``'s path). With
            ``extract``, a name with a suffix (``"data.tar.gz"``) is the archive's and the
            files go to ``"<stem>_extracted"``; a name without one is the folder's and the
            archive is ``"<fname>_archive"``.
        origin: The file's URL: only named in the error when the file is missing.
        untar: Deprecated: ``extract=True`` with ``archive_format="tar"``.
        md5_hash: Deprecated: ``file_hash`` with ``hash_algorithm="md5"``.
        file_hash: Expected sha256 or md5 hex digest of the file.
        cache_subdir: Folder under the cache directory.
        hash_algorithm: ``"md5"``, ``"sha256"`` or ``"auto"`` (by the hash's length).
        extract: Whether the file is an archive to extract; the folder's path is returned.
        archive_format: ``"auto"``, ``"tar"``, ``"zip"`` or None.
        cache_dir: The cache directory (default: ``$KERAS_HOME`` or ``~/.keras``).
        force_download: Keras's switch to download again: here, an error.

    Returns:
        The path of the file (or of the extracted folder).

    >>> path = get_file(origin="https://example.com/data.csv")   # doctest: +SKIP
    """
    if origin is None:
        raise ValueError('Please specify the "origin" argument (URL of the file to download).')
    if md5_hash is not None and file_hash is None:
        file_hash, hash_algorithm = md5_hash, "md5"
    base = os.path.expanduser(cache_dir if cache_dir is not None else _cache.keras_home())
    if not os.access(base, os.W_OK):
        base = os.path.join("/tmp" if os.path.isdir("/tmp") else tempfile.gettempdir(), ".keras")
    datadir = os.path.join(base, cache_subdir)
    provided = fname
    fname = os.fspath(fname) if fname is not None else None
    if not fname:
        fname = os.path.basename(urllib.parse.urlsplit(origin).path)
        if not fname:
            raise ValueError(f"Can't parse the file name from the origin provided: '{origin}'."
                             "Please specify the `fname` argument.")
    _cache.check_fname(fname)
    extraction_dir = None
    if extract or untar:
        if provided and "." in fname:
            target = os.path.join(datadir, fname)
            extraction_dir = os.path.join(datadir, f"{fname[:fname.find('.')]}_extracted")
        else:
            extraction_dir = os.path.join(datadir, fname)
            target = os.path.join(datadir, f"{fname}_archive")
    else:
        target = os.path.join(datadir, fname)

    if force_download:
        raise _cache.missing(f"`force_download=True` asks for a fresh copy of {fname}: it",
                             target, origin)
    if not os.path.exists(target):
        if extraction_dir is not None and os.path.isdir(extraction_dir):
            return extraction_dir  # extracted by hand: as good as the archive
        also = f" (or its extracted contents in {extraction_dir})" if extraction_dir else ""
        raise _cache.missing(fname, target, origin, also)
    if file_hash is not None and not validate_file(target, file_hash, hash_algorithm):
        raise ValueError(
            f"The file {target} does not match its expected {_algorithm(hash_algorithm, file_hash)}"
            f" hash {file_hash}: it is incomplete or outdated. kerasish never downloads: replace "
            f"it with a fresh download of {origin}. Received: file_hash={file_hash}")
    if extraction_dir is None:
        return target
    if not extract_archive(target, extraction_dir, "tar" if untar else archive_format):
        warnings.warn("Could not extract archive.", stacklevel=2)
    return extraction_dir


def _algorithm(algorithm, file_hash):
    if algorithm == "sha256" or (algorithm == "auto" and file_hash is not None
                                 and len(file_hash) == 64):
        return "sha256"
    return "md5"


def hash_file(fpath, algorithm="sha256", chunk_size=65535) -> str:
    """The hex digest of a file (``"sha256"`` or ``"md5"``)."""
    hasher = hashlib.sha256() if algorithm == "sha256" else hashlib.md5()
    with open(fpath, "rb") as f:
        for chunk in iter(lambda: f.read(chunk_size), b""):
            hasher.update(chunk)
    return hasher.hexdigest()


def validate_file(fpath, file_hash, algorithm="auto", chunk_size=65535) -> bool:
    """Whether the file's hash is ``file_hash`` (``"auto"``: sha256 for 64 hex digits, else
    md5)."""
    return hash_file(fpath, _algorithm(algorithm, file_hash), chunk_size) == str(file_hash)


def _inside(path, folder) -> bool:
    folder = os.path.realpath(folder)
    return os.path.commonpath([folder, os.path.realpath(os.path.join(folder, path))]) == folder


def extract_archive(file_path, path=".", archive_format="auto") -> bool:
    """Extracts a tar or zip archive into ``path``; False if it is neither. Members whose path
    would leave ``path`` (``..``, absolute paths, links out) are skipped."""
    if archive_format is None:
        return False
    formats = ["tar", "zip"] if archive_format == "auto" else (
        [archive_format] if isinstance(archive_format, str) else list(archive_format))
    for kind in formats:
        if kind == "tar":
            if not tarfile.is_tarfile(file_path):
                continue
            with tarfile.open(file_path) as archive:
                members = [m for m in archive.getmembers() if _inside(m.name, path)
                           and not ((m.issym() or m.islnk())
                                    and not _inside(os.path.join(os.path.dirname(m.name),
                                                                 m.linkname), path))]
                # NOTE: the "data" filter (Python >= 3.10.12) also refuses devices and setuid.
                kwargs = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}
                _extract(lambda: archive.extractall(path, members=members, **kwargs), path)
            return True
        if kind == "zip":
            if not zipfile.is_zipfile(file_path):
                continue
            with zipfile.ZipFile(file_path) as archive:
                members = [m for m in archive.infolist() if _inside(m.filename, path)]
                _extract(lambda: archive.extractall(path, members=members), path)
            return True
        raise NotImplementedError(f"Unknown archive format. Received: archive_format={kind!r}")
    return False


def _extract(run, path):
    try:
        run()
    except (tarfile.TarError, RuntimeError, KeyboardInterrupt):
        if os.path.isfile(path):
            os.remove(path)
        elif os.path.isdir(path):
            shutil.rmtree(path)
        raise
