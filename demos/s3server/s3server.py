#!/usr/bin/env python3
"""A small S3-compatible object store that keeps its data in a directory.

It speaks enough of Amazon S3's REST protocol (path-style addressing, XML
answers) for ordinary S3 clients and libraries to use it as a local stand-in
in development and tests:

====================  ========================================================
``GET /``             list the buckets
``PUT /b``            create bucket ``b``
``HEAD /b``           does bucket ``b`` exist?
``GET /b``            list objects; ``prefix``, ``marker``, ``max-keys`` and
                      ``delimiter`` work as in S3, and so does the newer
                      ``list-type=2`` listing with ``continuation-token``
                      and ``start-after``
``DELETE /b``         delete bucket ``b`` (it must be empty)
``PUT /b/key``        store an object (the body is streamed to disk)
``GET /b/key``        fetch an object (streamed from disk)
``HEAD /b/key``       an object's size, ETag and modification time
``DELETE /b/key``     delete an object
``POST /b/key?uploads``
                      start a multipart upload
``PUT /b/key?partNumber=N&uploadId=U``
                      upload part ``N`` (streamed to disk)
``GET /b/key?uploadId=U``
                      list the parts uploaded so far
``POST /b/key?uploadId=U``
                      complete the upload: the parts named in the XML body
                      become the object
``DELETE /b/key?uploadId=U``
                      abort the upload
``GET /b?uploads``    list the multipart uploads in progress
====================  ========================================================

``GET`` and ``HEAD`` of an object honour ``Range`` the way S3 does: one range
(``bytes=0-99``, the open ``bytes=100-`` or the suffix ``bytes=-100``) is
answered with ``206 Partial Content`` and ``Content-Range``; a range that
starts beyond the end of the object with ``416`` and S3's ``InvalidRange``
error; several ranges at once (which S3 does not support) and ranges it
cannot parse are ignored, so the whole object comes back with ``200``.

ETags are S3's: the MD5 of the object for a plain ``PUT``, and for an object
made by a multipart upload the MD5 of the concatenated binary MD5s of its
parts followed by ``-`` and the number of parts.  ``Content-MD5`` and the
``x-amz-checksum-crc32``, ``-sha1`` and ``-sha256`` headers are checked
when a client sends them (``BadDigest`` on a mismatch); the bodies that
SDKs frame with ``Content-Encoding: aws-chunked`` are decoded.

Authentication headers are accepted and ignored: this is a development tool,
listen on localhost only.  Each bucket is a directory under
``--root_directory`` (by default ``s3data/`` beside this file, wherever the
server is started from), each object a file in it whose name is the
percent-encoded key, so keys may contain any character, ``/`` included.
Names starting with ``.`` are the server's own: ``.meta/`` keeps each
object's ETag and content type, ``.uploads/<id>/`` the parts of a multipart
upload until it is completed or aborted.

Run it and point an S3 client at it::

    python3 demos/s3server/s3server.py --port=8888 --root_directory=/tmp/s3
    aws --endpoint-url=http://localhost:8888 s3 mb s3://demo
    aws --endpoint-url=http://localhost:8888 s3 cp big.iso s3://demo/
    aws --endpoint-url=http://localhost:8888 s3 ls s3://demo

or with boto3, ``boto3.client("s3", endpoint_url="http://localhost:8888")``
(any access key will do).
"""

import asyncio
import base64
import binascii
import datetime
import hashlib
import json
import os
import re
import secrets
import shutil
import tempfile
import urllib.parse
import xml.etree.ElementTree as ET
import zlib
from typing import Any, BinaryIO

import tornado.web
from tornado import httputil
from tornado.log import app_log
from tornado.options import define, options, parse_command_line

define("port", default=8888, help="port to listen on", type=int)
define("address", default="127.0.0.1", help="address to listen on")
define(
    "root_directory",
    default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "s3data"),
    help="directory that holds the buckets (default: s3data beside s3server.py)",
)

XMLNS = "http://s3.amazonaws.com/doc/2006-03-01/"
_BUCKET_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_READ_SIZE = 256 * 1024
# S3's limits: the largest single PUT or part, the smallest part but the last,
# part numbers; and ours: the largest CompleteMultipartUpload document.
MAX_OBJECT_SIZE = 5 * 1024**3
MIN_PART_SIZE = 5 * 1024**2
MAX_PART_NUMBER = 10000
_MAX_XML_BODY = 4 * 1024**2
_UPLOAD_ID = re.compile(r"^[0-9a-f]{32}$")


class S3Error(tornado.web.HTTPError):
    """An error answered with S3's XML error document."""

    def __init__(
        self,
        status_code: int,
        code: str,
        message: str,
        resource: str = "",
        extra: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(status_code, reason=None)
        self.code = code
        self.message = message
        self.resource = resource
        # More elements of the error document, and headers of the answer.
        self.extra = extra or {}
        self.headers = headers or {}


def _timestamp(seconds: float) -> str:
    moment = datetime.datetime.fromtimestamp(seconds, datetime.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _key_to_filename(key: str) -> str:
    # Percent-encoding gives a flat, reversible file name: no "/" to escape
    # the bucket.  quote() leaves "." alone, so a leading one is encoded by
    # hand: keys ".", ".." and ".x" must not become the bucket itself, its
    # parent, or a name the listing takes for the server's own.
    name = urllib.parse.quote(key, safe="")
    if name.startswith("."):
        name = "%2E" + name[1:]
    return name


def _filename_to_key(name: str) -> str:
    return urllib.parse.unquote(name)


def _etag(md5_hex: str) -> str:
    return f'"{md5_hex}"'


def _xml(root_tag: str, build: Any, namespace: bool = True) -> bytes:
    root = ET.Element(root_tag, xmlns=XMLNS) if namespace else ET.Element(root_tag)
    build(root)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="utf-8")


def _add(parent: ET.Element, tag: str, text: Any = None) -> ET.Element:
    child = ET.SubElement(parent, tag)
    if text is not None:
        child.text = str(text).lower() if isinstance(text, bool) else str(text)
    return child


class BaseHandler(tornado.web.RequestHandler):
    @property
    def root(self) -> str:
        return self.settings["root_directory"]

    def bucket_dir(self, bucket: str, must_exist: bool = True) -> str:
        if not _BUCKET_NAME.match(bucket):
            raise S3Error(400, "InvalidBucketName", "The specified bucket is not valid.", bucket)
        path = os.path.join(self.root, bucket)
        if must_exist and not os.path.isdir(path):
            raise S3Error(404, "NoSuchBucket", "The specified bucket does not exist.", bucket)
        return path

    def send_xml(self, root_tag: str, build: Any) -> None:
        self.set_header("Content-Type", "application/xml")
        self.finish(_xml(root_tag, build))

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        exc = kwargs.get("exc_info", (None, None, None))[1]
        extra: dict[str, str] = {}
        if isinstance(exc, S3Error):
            code, message, resource = exc.code, exc.message, exc.resource
            extra = exc.extra
            for name, value in exc.headers.items():
                self.set_header(name, value)
        else:
            code = "InternalError" if status_code >= 500 else "InvalidRequest"
            message = httputil.responses.get(status_code, "Unknown")
            resource = self.request.path
        if self.request.method == "HEAD":
            self.finish()
            return

        def build(root: ET.Element) -> None:
            _add(root, "Code", code)
            _add(root, "Message", message)
            _add(root, "Resource", resource)
            for tag, text in extra.items():
                _add(root, tag, text)

        self.set_header("Content-Type", "application/xml")
        self.finish(_xml("Error", build, namespace=False))


class RootHandler(BaseHandler):
    def get(self) -> None:
        os.makedirs(self.root, exist_ok=True)
        buckets = sorted(
            (entry for entry in os.scandir(self.root) if entry.is_dir() and _BUCKET_NAME.match(entry.name)),
            key=lambda entry: entry.name,
        )

        def build(root: ET.Element) -> None:
            owner = _add(root, "Owner")
            _add(owner, "ID", "tornado")
            _add(owner, "DisplayName", "tornado")
            listing = _add(root, "Buckets")
            for entry in buckets:
                bucket = _add(listing, "Bucket")
                _add(bucket, "Name", entry.name)
                _add(bucket, "CreationDate", _timestamp(entry.stat().st_mtime))

        self.send_xml("ListAllMyBucketsResult", build)


class BucketHandler(BaseHandler):
    SUPPORTED_METHODS = ("GET", "HEAD", "PUT", "DELETE")

    def put(self, bucket: str) -> None:
        path = self.bucket_dir(bucket, must_exist=False)
        try:
            os.makedirs(path)
        except FileExistsError:
            raise S3Error(
                409, "BucketAlreadyOwnedByYou", "Your previous request to create the named bucket succeeded.", bucket
            ) from None
        self.set_header("Location", "/" + bucket)
        self.finish()

    def head(self, bucket: str) -> None:
        self.bucket_dir(bucket)
        self.finish()

    def delete(self, bucket: str) -> None:
        path = self.bucket_dir(bucket)
        if any(not name.startswith(".") for name in os.listdir(path)):
            raise S3Error(409, "BucketNotEmpty", "The bucket you tried to delete is not empty.", bucket)
        # What is left is the server's own: metadata, unfinished uploads.
        for leftover in os.scandir(path):
            if leftover.is_dir(follow_symlinks=False):
                shutil.rmtree(leftover.path)
            else:
                os.unlink(leftover.path)
        os.rmdir(path)
        self.set_status(204)
        self.finish()

    def get(self, bucket: str) -> None:
        path = self.bucket_dir(bucket)
        if "uploads" in self.request.query_arguments:
            self.list_uploads(bucket, path)
            return
        prefix = self.get_argument("prefix", "", strip=False)
        delimiter = self.get_argument("delimiter", "", strip=False)
        try:
            max_keys = min(int(self.get_argument("max-keys", "1000")), 1000)
        except ValueError:
            raise S3Error(400, "InvalidArgument", "max-keys must be an integer.", "max-keys") from None
        if max_keys < 0:
            raise S3Error(400, "InvalidArgument", "max-keys must not be negative.", "max-keys")
        v2 = self.get_argument("list-type", "1") == "2"
        if v2:
            after = self.get_argument("continuation-token", "", strip=False) or self.get_argument(
                "start-after", "", strip=False
            )
        else:
            after = self.get_argument("marker", "", strip=False)

        keys = sorted(
            _filename_to_key(name) for name in os.listdir(path) if not name.startswith(".")
        )
        contents, common_prefixes, truncated, last = _select(
            keys, prefix, after, delimiter, max_keys
        )

        def build(root: ET.Element) -> None:
            _add(root, "Name", bucket)
            _add(root, "Prefix", prefix)
            if v2:
                token = self.get_argument("continuation-token", None, strip=False)
                if token is not None:
                    _add(root, "ContinuationToken", token)
                start_after = self.get_argument("start-after", None, strip=False)
                if start_after is not None:
                    _add(root, "StartAfter", start_after)
                _add(root, "KeyCount", len(contents) + len(common_prefixes))
            else:
                _add(root, "Marker", after)
            _add(root, "MaxKeys", max_keys)
            if delimiter:
                _add(root, "Delimiter", delimiter)
            _add(root, "IsTruncated", truncated)
            if truncated and last is not None:
                _add(root, "NextContinuationToken" if v2 else "NextMarker", last)
            for key in contents:
                info = os.stat(os.path.join(path, _key_to_filename(key)))
                item = _add(root, "Contents")
                _add(item, "Key", key)
                _add(item, "LastModified", _timestamp(info.st_mtime))
                _add(item, "ETag", _object_meta(path, _key_to_filename(key), info)["etag"])
                _add(item, "Size", info.st_size)
                _add(item, "StorageClass", "STANDARD")
            for common in common_prefixes:
                _add(_add(root, "CommonPrefixes"), "Prefix", common)

        self.send_xml("ListBucketResult", build)


    def list_uploads(self, bucket: str, path: str) -> None:
        """ListMultipartUploads: the uploads begun and not yet completed."""
        prefix = self.get_argument("prefix", "", strip=False)
        uploads = sorted(
            (info["key"], upload_id, info["initiated"])
            for upload_id, info in _uploads_in(path)
            if info["key"].startswith(prefix)
        )

        def build(root: ET.Element) -> None:
            _add(root, "Bucket", bucket)
            _add(root, "KeyMarker", "")
            _add(root, "UploadIdMarker", "")
            _add(root, "Prefix", prefix)
            _add(root, "MaxUploads", 1000)
            _add(root, "IsTruncated", False)
            for key, upload_id, initiated in uploads[:1000]:
                item = _add(root, "Upload")
                _add(item, "Key", key)
                _add(item, "UploadId", upload_id)
                _add_owner(item, "Initiator")
                _add_owner(item, "Owner")
                _add(item, "StorageClass", "STANDARD")
                _add(item, "Initiated", _timestamp(initiated))

        self.send_xml("ListMultipartUploadsResult", build)


def _add_owner(parent: ET.Element, tag: str) -> None:
    owner = _add(parent, tag)
    _add(owner, "ID", "tornado")
    _add(owner, "DisplayName", "tornado")


def _select(
    keys: list[str], prefix: str, after: str, delimiter: str, max_keys: int
) -> tuple[list[str], list[str], bool, str | None]:
    """Pick one page of a listing from the sorted ``keys``.

    Returns the keys, the common prefixes (keys rolled up at ``delimiter``),
    whether more remain, and the last entry returned (the next marker).
    """
    contents: list[str] = []
    common: list[str] = []
    last: str | None = None
    for key in keys:
        if not key.startswith(prefix) or key <= after:
            continue
        rolled = None
        if delimiter:
            cut = key.find(delimiter, len(prefix))
            if cut >= 0:
                rolled = key[: cut + len(delimiter)]
                if rolled in common or (after and rolled <= after):
                    continue
        if len(contents) + len(common) >= max_keys:
            return contents, common, True, last
        if rolled is not None:
            common.append(rolled)
            last = rolled
        else:
            contents.append(key)
            last = key
    return contents, common, False, last


_md5_cache: dict[tuple[str, int, int], str] = {}


def _md5_of(path: str) -> str:
    """MD5 of a stored object's bytes, cached by size and mtime."""
    info = os.stat(path)
    cache_key = (path, info.st_size, info.st_mtime_ns)
    if cache_key not in _md5_cache:
        digest = hashlib.md5(usedforsecurity=False)
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(_READ_SIZE), b""):
                digest.update(block)
        _md5_cache[cache_key] = digest.hexdigest()
    return _md5_cache[cache_key]


# Object metadata -----------------------------------------------------------------
#
# An object's ETag is not always the MD5 of its bytes (multipart uploads), so
# it is kept beside the object in .meta/<file name>, with the size and mtime
# it was written for: a file changed behind the server's back, or one put in
# the directory by hand, gets the MD5 of its bytes instead.

_DEFAULT_CONTENT_TYPE = "binary/octet-stream"  # what S3 answers when none was given


def _meta_path(bucket_dir: str, filename: str) -> str:
    return os.path.join(bucket_dir, ".meta", filename)


def _object_meta(bucket_dir: str, filename: str, info: os.stat_result) -> dict[str, Any]:
    """``{"etag": '"..."', "content_type": ...}`` of a stored object."""
    try:
        with open(_meta_path(bucket_dir, filename), encoding="utf-8") as f:
            meta = json.load(f)
    except (OSError, ValueError):
        meta = None
    if (
        isinstance(meta, dict)
        and meta.get("size") == info.st_size
        and meta.get("mtime_ns") == info.st_mtime_ns
    ):
        return meta
    return {
        "etag": _etag(_md5_of(os.path.join(bucket_dir, filename))),
        "content_type": _DEFAULT_CONTENT_TYPE,
    }


def _write_meta(bucket_dir: str, filename: str, etag: str, content_type: str) -> None:
    info = os.stat(os.path.join(bucket_dir, filename))
    meta = {
        "etag": etag,
        "content_type": content_type,
        "size": info.st_size,
        "mtime_ns": info.st_mtime_ns,
    }
    directory = os.path.join(bucket_dir, ".meta")
    os.makedirs(directory, exist_ok=True)
    fd, temp = tempfile.mkstemp(prefix=".meta-", dir=directory)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(meta, f)
    os.replace(temp, _meta_path(bucket_dir, filename))


def _remove(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


# Multipart uploads ---------------------------------------------------------------
#
# An upload in progress is the directory .uploads/<upload id>/ of its bucket:
# info.json (key, start time, content type) and one file per part named
# <5-digit part number>.<MD5 hex of the part>, so listing the directory is
# listing the parts with their ETags.


def _uploads_in(bucket_dir: str) -> list[tuple[str, dict[str, Any]]]:
    """(upload id, info) of each multipart upload in progress in a bucket."""
    found = []
    try:
        entries = list(os.scandir(os.path.join(bucket_dir, ".uploads")))
    except FileNotFoundError:
        return []
    for entry in entries:
        try:
            with open(os.path.join(entry.path, "info.json"), encoding="utf-8") as f:
                found.append((entry.name, json.load(f)))
        except (OSError, ValueError):
            continue  # being created or removed right now
    return found


def _parts_in(upload_dir: str) -> dict[int, tuple[str, str, os.stat_result]]:
    """Part number -> (file name, MD5 hex, stat) of an upload's parts."""
    parts = {}
    for entry in os.scandir(upload_dir):
        number, dot, md5_hex = entry.name.partition(".")
        if dot and number.isdigit() and len(md5_hex) == 32:
            parts[int(number)] = (entry.name, md5_hex, entry.stat())
    return parts


def _multipart_etag(md5_hexes: list[str]) -> str:
    """S3's ETag of a multipart object: MD5 of the parts' binary MD5s, "-", count."""
    joined = b"".join(bytes.fromhex(h) for h in md5_hexes)
    return _etag(f"{hashlib.md5(joined, usedforsecurity=False).hexdigest()}-{len(md5_hexes)}")


def _assemble(
    bucket_dir: str, upload_dir: str, part_files: list[str], filename: str, etag: str, content_type: str
) -> None:
    """Concatenate the parts into the object, then forget the upload.

    Runs on a thread: copying gigabytes takes a while, and the server keeps
    answering meanwhile.  The object appears at once, complete (a rename).
    """
    fd, temp = tempfile.mkstemp(prefix=".put-", dir=bucket_dir)
    try:
        with os.fdopen(fd, "wb") as out:
            for name in part_files:
                with open(os.path.join(upload_dir, name), "rb") as part:
                    shutil.copyfileobj(part, out, 1024 * 1024)
        os.replace(temp, os.path.join(bucket_dir, filename))
    except BaseException:
        _remove(temp)
        raise
    _write_meta(bucket_dir, filename, etag, content_type)
    shutil.rmtree(upload_dir, ignore_errors=True)


# Ranges ----------------------------------------------------------------------------


def _byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The ``[start, end)`` that a ``Range`` header asks of ``size`` bytes.

    None means the whole object: no header, a unit other than bytes, a
    header that does not parse, or several ranges (S3 serves one range per
    request and ignores such headers).  A range that starts at or beyond
    the end (or any range of an empty object) raises ``InvalidRange``.
    """
    if not header:
        return None
    unit, _, spec = header.partition("=")
    if unit.strip().lower() != "bytes" or "," in spec:
        return None
    first, dash, last = spec.strip().partition("-")
    first, last = first.strip(), last.strip()
    if not dash or not (first.isdigit() or last.isdigit()):
        return None
    if (first and not first.isdigit()) or (last and not last.isdigit()):
        return None
    if not first:  # bytes=-N: the last N bytes
        length = int(last)
        if length == 0 or size == 0:
            raise _invalid_range(header, size)
        return max(size - length, 0), size
    start = int(first)
    if last and int(last) < start:
        return None  # not a valid range: ignored, as RFC 9110 says
    if start >= size:
        raise _invalid_range(header, size)
    end = min(int(last) + 1, size) if last else size
    return start, end


def _invalid_range(header: str, size: int) -> "S3Error":
    return S3Error(
        416,
        "InvalidRange",
        "The requested range is not satisfiable",
        extra={"RangeRequested": header, "ActualObjectSize": str(size)},
        headers={"Content-Range": f"bytes */{size}"},
    )


# Request bodies --------------------------------------------------------------------


class _AwsChunked:
    """Decoder of ``Content-Encoding: aws-chunked`` bodies, fed as they arrive.

    The SDKs frame streamed uploads this way: ``<hex size>[;chunk-signature=
    ...]`` CRLF, the data, CRLF, ..., a zero-size chunk, then trailer lines
    (such as ``x-amz-checksum-crc32:...``) and an empty line.  Signatures are
    not checked (authentication is ignored throughout).
    """

    def __init__(self) -> None:
        self._state = "size"  # size, data, crlf, trailer, done
        self._remaining = 0
        self._line = b""
        self.trailers: dict[str, str] = {}

    @property
    def done(self) -> bool:
        return self._state == "done"

    def feed(self, data: bytes) -> list[bytes]:
        """The payload bytes in ``data``; raises S3Error on bad framing."""
        out = []
        pos, n = 0, len(data)
        while pos < n:
            if self._state == "data":
                take = min(self._remaining, n - pos)
                out.append(data[pos : pos + take])
                pos += take
                self._remaining -= take
                if self._remaining == 0:
                    self._state = "crlf"
                continue
            if self._state == "done":
                raise _bad_chunking("data after the last chunk")
            newline = data.find(b"\n", pos)
            if newline < 0:
                self._line += data[pos:]
                if len(self._line) > 8192:
                    raise _bad_chunking("a chunk header longer than 8192 bytes")
                break
            line = (self._line + data[pos:newline]).rstrip(b"\r")
            self._line = b""
            pos = newline + 1
            self._line_done(line)
        return out

    def _line_done(self, line: bytes) -> None:
        if self._state == "crlf":
            if line:
                raise _bad_chunking("a chunk longer than its size")
            self._state = "size"
        elif self._state == "size":
            size_text = line.split(b";", 1)[0].strip()
            try:
                size = int(size_text, 16)
            except ValueError:
                raise _bad_chunking(f"chunk size {size_text[:20]!r}") from None
            if size < 0:
                raise _bad_chunking(f"chunk size {size_text[:20]!r}")
            self._remaining = size
            self._state = "data" if size else "trailer"
        elif self._state == "trailer":
            if not line:
                self._state = "done"
                return
            name, colon, value = line.decode("latin-1").partition(":")
            if not colon:
                raise _bad_chunking(f"trailer line {line[:40]!r}")
            self.trailers[name.strip().lower()] = value.strip()


def _bad_chunking(what: str) -> "S3Error":
    return S3Error(400, "IncompleteBody", f"Malformed aws-chunked body: {what}.")


def _crc32_b64(crc: int) -> str:
    return base64.b64encode(crc.to_bytes(4, "big")).decode("ascii")


class _Checksums:
    """The integrity checks a client asked for on an upload.

    ``Content-MD5`` and the ``x-amz-checksum-crc32``, ``-sha1`` and
    ``-sha256`` values (in headers, or announced by ``x-amz-trailer`` and
    sent after an aws-chunked body) are compared with what arrived.  Other
    algorithms (CRC32C, CRC64NVME) need libraries beyond the standard one
    and are accepted unchecked.
    """

    SUPPORTED = ("crc32", "sha1", "sha256")

    def __init__(self, headers: httputil.HTTPHeaders) -> None:
        self.content_md5: bytes | None = None
        md5_header = headers.get("Content-MD5")
        if md5_header is not None:
            try:
                self.content_md5 = base64.b64decode(md5_header, validate=True)
            except binascii.Error:
                self.content_md5 = b""
            if len(self.content_md5) != 16:
                raise S3Error(400, "InvalidDigest", "The Content-MD5 you specified was invalid.")
        self.expected: dict[str, str] = {}
        wanted = set()
        for name in self.SUPPORTED:
            value = headers.get(f"x-amz-checksum-{name}")
            if value:
                self.expected[name] = value
                wanted.add(name)
        for trailer in headers.get("x-amz-trailer", "").lower().split(","):
            name = trailer.strip().removeprefix("x-amz-checksum-")
            if name in self.SUPPORTED:
                wanted.add(name)
        self._crc32 = 0 if "crc32" in wanted else None
        self._sha1 = hashlib.sha1(usedforsecurity=False) if "sha1" in wanted else None
        self._sha256 = hashlib.sha256() if "sha256" in wanted else None

    def update(self, data: bytes) -> None:
        if self._crc32 is not None:
            self._crc32 = zlib.crc32(data, self._crc32)
        if self._sha1 is not None:
            self._sha1.update(data)
        if self._sha256 is not None:
            self._sha256.update(data)

    def verify(self, md5_digest: bytes, trailers: dict[str, str]) -> dict[str, str]:
        """Raise BadDigest on a mismatch; return the checksum headers to echo."""
        if self.content_md5 is not None and self.content_md5 != md5_digest:
            raise S3Error(400, "BadDigest", "The Content-MD5 you specified did not match what we received.")
        expected = dict(self.expected)
        for name in self.SUPPORTED:
            if f"x-amz-checksum-{name}" in trailers:
                expected[name] = trailers[f"x-amz-checksum-{name}"]
        actual = {}
        if self._crc32 is not None:
            actual["crc32"] = _crc32_b64(self._crc32)
        if self._sha1 is not None:
            actual["sha1"] = base64.b64encode(self._sha1.digest()).decode("ascii")
        if self._sha256 is not None:
            actual["sha256"] = base64.b64encode(self._sha256.digest()).decode("ascii")
        echo = {}
        for name, value in expected.items():
            if actual.get(name) != value:
                raise S3Error(
                    400,
                    "BadDigest",
                    f"The {name.upper()} you specified did not match the calculated checksum.",
                )
            echo[f"x-amz-checksum-{name}"] = value
        return echo


class _Sink:
    """Where a streamed upload goes: a temporary file, hashed on the way in.

    Memory stays flat whatever the size: each chunk is written out as it
    arrives.  Errors found mid-body (bad aws-chunked framing) are kept and
    raised by :meth:`finish`, once the request handler may answer.
    """

    def __init__(self, directory: str, headers: httputil.HTTPHeaders) -> None:
        self.checksums = _Checksums(headers)
        encodings = [e.strip().lower() for e in headers.get("Content-Encoding", "").split(",")]
        chunked = "aws-chunked" in encodings or headers.get("x-amz-content-sha256", "").startswith(
            "STREAMING-"
        )
        self.decoder = _AwsChunked() if chunked else None
        self.decoded_length = headers.get("x-amz-decoded-content-length")
        self.md5 = hashlib.md5(usedforsecurity=False)
        self.size = 0
        self.error: S3Error | None = None
        fd, self.path = tempfile.mkstemp(prefix=".put-", dir=directory)
        self.file: BinaryIO = os.fdopen(fd, "wb")

    def write(self, chunk: bytes) -> None:
        if self.error is not None:
            return
        try:
            pieces = self.decoder.feed(chunk) if self.decoder is not None else [chunk]
        except S3Error as e:
            self.error = e
            return
        for piece in pieces:
            self.file.write(piece)
            self.md5.update(piece)
            self.checksums.update(piece)
            self.size += len(piece)

    def finish(self) -> dict[str, str]:
        """Close the file; check the body; return the checksum headers to echo."""
        self.file.close()
        if self.error is not None:
            raise self.error
        trailers: dict[str, str] = {}
        if self.decoder is not None:
            if not self.decoder.done:
                raise _bad_chunking("the body ended inside a chunk")
            trailers = self.decoder.trailers
        if self.decoded_length is not None and self.decoded_length != str(self.size):
            raise S3Error(
                400,
                "IncompleteBody",
                f"x-amz-decoded-content-length is {self.decoded_length} but {self.size} bytes came.",
            )
        return self.checksums.verify(self.md5.digest(), trailers)

    def discard(self) -> None:
        self.file.close()
        _remove(self.path)


# Objects ---------------------------------------------------------------------------


_NO_SUCH_UPLOAD = (
    "The specified upload does not exist. The upload ID may be invalid,"
    " or the upload may have been aborted or completed."
)


@tornado.web.stream_request_body
class ObjectHandler(BaseHandler):
    SUPPORTED_METHODS = ("GET", "HEAD", "PUT", "DELETE", "POST")

    def initialize(self) -> None:
        self.sink: _Sink | None = None
        self.part_number = 0
        self.upload_path = ""
        self.xml_body = b""

    def object_path(self, bucket: str, key: str) -> str:
        return os.path.join(self.bucket_dir(bucket), _key_to_filename(key))

    def upload_dir(self, bucket: str, key: str, upload_id: str) -> str:
        """The directory of a multipart upload of ``key``; NoSuchUpload if none."""
        if _UPLOAD_ID.match(upload_id):
            path = os.path.join(self.bucket_dir(bucket), ".uploads", upload_id)
            try:
                with open(os.path.join(path, "info.json"), encoding="utf-8") as f:
                    if json.load(f)["key"] == key:
                        return path
            except (OSError, ValueError, KeyError):
                pass
        raise S3Error(404, "NoSuchUpload", _NO_SUCH_UPLOAD, upload_id)

    def prepare(self) -> None:
        bucket, key = self.path_args
        if self.request.method == "POST":
            # The only POST bodies are CompleteMultipartUpload documents.
            self.request.connection.set_max_body_size(_MAX_XML_BODY)  # type: ignore[attr-defined]
            return
        if self.request.method != "PUT":
            return
        if len(key.encode("utf-8")) > 1024:
            raise S3Error(400, "KeyTooLongError", "Your key is too long.", key)
        if "x-amz-copy-source" in self.request.headers:
            raise S3Error(501, "NotImplemented", "Copying objects is not implemented here.", key)
        upload_id = self.get_query_argument("uploadId", None)
        if upload_id is not None:
            self.part_number = self.parse_part_number()
            self.upload_path = directory = self.upload_dir(bucket, key, upload_id)
        else:
            directory = self.bucket_dir(bucket)
        # Room for aws-chunked framing around the largest object S3 accepts.
        limit = MAX_OBJECT_SIZE + MAX_OBJECT_SIZE // 1024
        self.request.connection.set_max_body_size(limit)  # type: ignore[attr-defined]
        self.sink = _Sink(directory, self.request.headers)

    def parse_part_number(self) -> int:
        text = self.get_query_argument("partNumber", "")
        if not text.isdigit() or not 1 <= int(text) <= MAX_PART_NUMBER:
            raise S3Error(
                400,
                "InvalidArgument",
                f"Part number must be an integer between 1 and {MAX_PART_NUMBER}, inclusive",
                "partNumber",
            )
        return int(text)

    def data_received(self, chunk: bytes) -> None:
        if self.sink is not None:
            self.sink.write(chunk)
        elif self.request.method == "POST":
            self.xml_body += chunk

    def on_finish(self) -> None:
        self._discard()

    def on_connection_close(self) -> None:
        self._discard()

    def _discard(self) -> None:
        if self.sink is not None:
            self.sink.discard()
            self.sink = None

    # PUT: an object, or one part of a multipart upload -----------------------------

    def put(self, bucket: str, key: str) -> None:
        assert self.sink is not None
        echo = self.sink.finish()
        md5_hex = self.sink.md5.hexdigest()
        if self.upload_path:
            self.store_part(md5_hex)
        else:
            filename = _key_to_filename(key)
            bucket_dir = self.bucket_dir(bucket)
            os.replace(self.sink.path, os.path.join(bucket_dir, filename))
            content_type = self.request.headers.get("Content-Type", _DEFAULT_CONTENT_TYPE)
            _write_meta(bucket_dir, filename, _etag(md5_hex), content_type)
        self.sink = None
        for name, value in echo.items():
            self.set_header(name, value)
        self.set_header("ETag", _etag(md5_hex))
        self.finish()

    def store_part(self, md5_hex: str) -> None:
        assert self.sink is not None
        prefix = f"{self.part_number:05d}."
        try:
            # A part uploaded again replaces the earlier one.
            for entry in os.scandir(self.upload_path):
                if entry.name.startswith(prefix):
                    _remove(entry.path)
            os.replace(self.sink.path, os.path.join(self.upload_path, prefix + md5_hex))
        except FileNotFoundError:  # aborted meanwhile
            raise S3Error(404, "NoSuchUpload", _NO_SUCH_UPLOAD) from None

    # POST: start or complete a multipart upload ------------------------------------

    async def post(self, bucket: str, key: str) -> None:
        if "uploads" in self.request.query_arguments:
            self.create_upload(bucket, key)
        elif self.get_query_argument("uploadId", None) is not None:
            await self.complete_upload(bucket, key, self.get_query_argument("uploadId"))
        else:
            raise S3Error(405, "MethodNotAllowed", "The specified method is not allowed against this resource.")

    def create_upload(self, bucket: str, key: str) -> None:
        if len(key.encode("utf-8")) > 1024:
            raise S3Error(400, "KeyTooLongError", "Your key is too long.", key)
        upload_id = secrets.token_hex(16)
        path = os.path.join(self.bucket_dir(bucket), ".uploads", upload_id)
        os.makedirs(path)
        info = {
            "key": key,
            "initiated": datetime.datetime.now(datetime.UTC).timestamp(),
            "content_type": self.request.headers.get("Content-Type", _DEFAULT_CONTENT_TYPE),
        }
        with open(os.path.join(path, "info.json"), "w", encoding="utf-8") as f:
            json.dump(info, f)

        def build(root: ET.Element) -> None:
            _add(root, "Bucket", bucket)
            _add(root, "Key", key)
            _add(root, "UploadId", upload_id)

        self.send_xml("InitiateMultipartUploadResult", build)

    async def complete_upload(self, bucket: str, key: str, upload_id: str) -> None:
        upload_path = self.upload_dir(bucket, key, upload_id)
        wanted = _parse_complete(self.xml_body)
        stored = _parts_in(upload_path)
        files, md5s = [], []
        for index, (number, etag) in enumerate(wanted):
            part = stored.get(number)
            if part is None or part[1] != etag.strip('"').lower():
                raise S3Error(
                    400,
                    "InvalidPart",
                    "One or more of the specified parts could not be found. The part might not"
                    " have been uploaded, or the specified entity tag might not have matched the"
                    " part's entity tag.",
                    str(number),
                )
            if index < len(wanted) - 1 and part[2].st_size < MIN_PART_SIZE:
                raise S3Error(
                    400, "EntityTooSmall", "Your proposed upload is smaller than the minimum allowed object size."
                )
            files.append(part[0])
            md5s.append(part[1])
        with open(os.path.join(upload_path, "info.json"), encoding="utf-8") as f:
            content_type = json.load(f).get("content_type", _DEFAULT_CONTENT_TYPE)
        etag = _multipart_etag(md5s)
        bucket_dir = self.bucket_dir(bucket)
        await asyncio.get_running_loop().run_in_executor(
            None, _assemble, bucket_dir, upload_path, files, _key_to_filename(key), etag, content_type
        )
        location = f"{self.request.protocol}://{self.request.host}/{bucket}/{urllib.parse.quote(key)}"

        def build(root: ET.Element) -> None:
            _add(root, "Location", location)
            _add(root, "Bucket", bucket)
            _add(root, "Key", key)
            _add(root, "ETag", etag)

        self.send_xml("CompleteMultipartUploadResult", build)

    # GET and HEAD: an object (or a range of it), or the parts of an upload ---------

    def _stat(self, bucket: str, key: str) -> tuple[str, os.stat_result]:
        path = self.object_path(bucket, key)
        try:
            info = os.stat(path)
        except FileNotFoundError:
            info = None
        if info is None or not os.path.isfile(path):
            raise S3Error(404, "NoSuchKey", "The specified key does not exist.", key)
        return path, info

    def _start_object(self, bucket: str, key: str) -> tuple[str, int, int]:
        """Set the headers of an object answer; return its path and byte range."""
        path, info = self._stat(bucket, key)
        meta = _object_meta(self.bucket_dir(bucket), _key_to_filename(key), info)
        byte_range = _byte_range(self.request.headers.get("Range"), info.st_size)
        start, end = byte_range or (0, info.st_size)
        if byte_range is not None:
            self.set_status(206)
            self.set_header("Content-Range", f"bytes {start}-{end - 1}/{info.st_size}")
        self.set_header("Accept-Ranges", "bytes")
        self.set_header("Content-Type", meta.get("content_type", _DEFAULT_CONTENT_TYPE))
        self.set_header("Content-Length", str(end - start))
        self.set_header("ETag", meta["etag"])
        self.set_header("Last-Modified", datetime.datetime.fromtimestamp(info.st_mtime, datetime.UTC))
        return path, start, end

    def head(self, bucket: str, key: str) -> None:
        self._start_object(bucket, key)
        self.finish()

    async def get(self, bucket: str, key: str) -> None:
        upload_id = self.get_query_argument("uploadId", None)
        if upload_id is not None:
            self.list_parts(bucket, key, upload_id)
            return
        path, start, end = self._start_object(bucket, key)
        # Local disk reads of one block are short next to the network time.
        with open(path, "rb") as f:  # noqa: ASYNC230
            f.seek(start)
            remaining = end - start
            while remaining > 0:
                block = f.read(min(_READ_SIZE, remaining))
                if not block:
                    break  # truncated behind our back: the connection will say so
                remaining -= len(block)
                self.write(block)
                # Wait until the block has gone out: a large object is never
                # in memory all at once.
                await self.flush()

    def list_parts(self, bucket: str, key: str, upload_id: str) -> None:
        upload_path = self.upload_dir(bucket, key, upload_id)
        try:
            max_parts = min(int(self.get_query_argument("max-parts", "1000")), 1000)
            marker = int(self.get_query_argument("part-number-marker", "0") or "0")
        except ValueError:
            raise S3Error(400, "InvalidArgument", "max-parts and part-number-marker must be integers.") from None
        stored = _parts_in(upload_path)
        numbers = sorted(n for n in stored if n > marker)
        page = numbers[: max(max_parts, 0)]
        truncated = len(numbers) > len(page)

        def build(root: ET.Element) -> None:
            _add(root, "Bucket", bucket)
            _add(root, "Key", key)
            _add(root, "UploadId", upload_id)
            _add_owner(root, "Initiator")
            _add_owner(root, "Owner")
            _add(root, "StorageClass", "STANDARD")
            _add(root, "PartNumberMarker", marker)
            if page:
                _add(root, "NextPartNumberMarker", page[-1])
            _add(root, "MaxParts", max_parts)
            _add(root, "IsTruncated", truncated)
            for number in page:
                _, md5_hex, info = stored[number]
                part = _add(root, "Part")
                _add(part, "PartNumber", number)
                _add(part, "LastModified", _timestamp(info.st_mtime))
                _add(part, "ETag", _etag(md5_hex))
                _add(part, "Size", info.st_size)

        self.send_xml("ListPartsResult", build)

    # DELETE: an object, or a multipart upload (abort) ------------------------------

    def delete(self, bucket: str, key: str) -> None:
        upload_id = self.get_query_argument("uploadId", None)
        if upload_id is not None:
            shutil.rmtree(self.upload_dir(bucket, key, upload_id), ignore_errors=True)
        else:
            bucket_dir = self.bucket_dir(bucket)
            filename = _key_to_filename(key)
            # S3 answers the same whether or not the key existed.
            _remove(os.path.join(bucket_dir, filename))
            _remove(_meta_path(bucket_dir, filename))
        self.set_status(204)
        self.finish()


def _parse_complete(body: bytes) -> list[tuple[int, str]]:
    """(part number, ETag) pairs of a CompleteMultipartUpload document, checked."""
    malformed = S3Error(
        400,
        "MalformedXML",
        "The XML you provided was not well-formed or did not validate against our published schema.",
    )
    try:
        root = ET.fromstring(body)
    except ET.ParseError:
        raise malformed from None

    def local(tag: str) -> str:
        return tag.rsplit("}", 1)[-1]  # clients may or may not use S3's namespace

    if local(root.tag) != "CompleteMultipartUpload":
        raise malformed
    parts = []
    for element in root:
        if local(element.tag) != "Part":
            continue
        fields = {local(child.tag): (child.text or "").strip() for child in element}
        if not fields.get("PartNumber", "").isdigit() or "ETag" not in fields:
            raise malformed
        parts.append((int(fields["PartNumber"]), fields["ETag"]))
    if not parts:
        raise malformed
    numbers = [number for number, _ in parts]
    if numbers != sorted(set(numbers)):
        raise S3Error(
            400,
            "InvalidPartOrder",
            "The list of parts was not in ascending order. Parts must be ordered by part number.",
        )
    return parts


def make_app(root_directory: str) -> tornado.web.Application:
    return tornado.web.Application(
        [
            (r"/", RootHandler),
            (r"/([^/]+)/?", BucketHandler),
            (r"/([^/]+)/(.+)", ObjectHandler),
        ],
        root_directory=root_directory,
    )


async def main() -> None:
    parse_command_line()
    root = os.path.abspath(options.root_directory)
    os.makedirs(root, exist_ok=True)
    app = make_app(root)
    app.listen(options.port, options.address)
    app_log.info("serving buckets from %s on http://%s:%d/", root, options.address, options.port)
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main())
