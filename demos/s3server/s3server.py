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
====================  ========================================================

Authentication headers are accepted and ignored: this is a development tool,
listen on localhost only.  Each bucket is a directory under
``--root_directory``, each object a file in it whose name is the
percent-encoded key, so keys may contain any character, ``/`` included.

Run it and point an S3 client at it::

    python3 demos/s3server/s3server.py --port=8888 --root_directory=/tmp/s3
    aws --endpoint-url=http://localhost:8888 s3 ls
"""

import asyncio
import datetime
import hashlib
import os
import re
import tempfile
import urllib.parse
import xml.etree.ElementTree as ET
from typing import Any, BinaryIO

import tornado.web
from tornado import httputil
from tornado.log import app_log
from tornado.options import define, options, parse_command_line

define("port", default=8888, help="port to listen on", type=int)
define("address", default="127.0.0.1", help="address to listen on")
define("root_directory", default="s3data", help="directory that holds the buckets")

XMLNS = "http://s3.amazonaws.com/doc/2006-03-01/"
_BUCKET_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_READ_SIZE = 256 * 1024


class S3Error(tornado.web.HTTPError):
    """An error answered with S3's XML error document."""

    def __init__(self, status_code: int, code: str, message: str, resource: str = "") -> None:
        super().__init__(status_code, reason=None)
        self.code = code
        self.message = message
        self.resource = resource


def _timestamp(seconds: float) -> str:
    moment = datetime.datetime.fromtimestamp(seconds, datetime.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _key_to_filename(key: str) -> str:
    # Percent-encoding everything but letters and digits gives a flat,
    # reversible file name: no "/" to escape the bucket, no "." or "..".
    return urllib.parse.quote(key, safe="")


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
        if isinstance(exc, S3Error):
            code, message, resource = exc.code, exc.message, exc.resource
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
        for leftover in os.listdir(path):  # interrupted uploads
            os.unlink(os.path.join(path, leftover))
        os.rmdir(path)
        self.set_status(204)
        self.finish()

    def get(self, bucket: str) -> None:
        path = self.bucket_dir(bucket)
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
                _add(item, "ETag", _etag(_md5_of(os.path.join(path, _key_to_filename(key)))))
                _add(item, "Size", info.st_size)
                _add(item, "StorageClass", "STANDARD")
            for common in common_prefixes:
                _add(_add(root, "CommonPrefixes"), "Prefix", common)

        self.send_xml("ListBucketResult", build)


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
    """MD5 of a stored object (its S3 ETag), cached by size and mtime."""
    info = os.stat(path)
    cache_key = (path, info.st_size, info.st_mtime_ns)
    if cache_key not in _md5_cache:
        digest = hashlib.md5(usedforsecurity=False)
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(_READ_SIZE), b""):
                digest.update(block)
        _md5_cache[cache_key] = digest.hexdigest()
    return _md5_cache[cache_key]


@tornado.web.stream_request_body
class ObjectHandler(BaseHandler):
    SUPPORTED_METHODS = ("GET", "HEAD", "PUT", "DELETE")

    def initialize(self) -> None:
        self.temp: BinaryIO | None = None
        self.temp_path = ""
        self.digest = hashlib.md5(usedforsecurity=False)

    def object_path(self, bucket: str, key: str) -> str:
        return os.path.join(self.bucket_dir(bucket), _key_to_filename(key))

    def prepare(self) -> None:
        if self.request.method != "PUT":
            return
        bucket, key = self.path_args
        if len(key.encode("utf-8")) > 1024:
            raise S3Error(400, "KeyTooLongError", "Your key is too long.", key)
        directory = self.bucket_dir(bucket)
        self.request.connection.set_max_body_size(5 * 1024**3)  # type: ignore[attr-defined]
        fd, self.temp_path = tempfile.mkstemp(prefix=".put-", dir=directory)
        self.temp = os.fdopen(fd, "wb")

    def data_received(self, chunk: bytes) -> None:
        if self.temp is not None:
            self.temp.write(chunk)
            self.digest.update(chunk)

    def put(self, bucket: str, key: str) -> None:
        assert self.temp is not None
        self.temp.close()
        os.replace(self.temp_path, self.object_path(bucket, key))
        self.temp = None
        self.set_header("ETag", _etag(self.digest.hexdigest()))
        self.finish()

    def on_finish(self) -> None:
        self._discard()

    def on_connection_close(self) -> None:
        self._discard()

    def _discard(self) -> None:
        if self.temp is not None:
            self.temp.close()
            try:
                os.unlink(self.temp_path)
            except FileNotFoundError:
                pass
            self.temp = None

    def _stat(self, bucket: str, key: str) -> tuple[str, os.stat_result]:
        path = self.object_path(bucket, key)
        try:
            return path, os.stat(path)
        except FileNotFoundError:
            raise S3Error(404, "NoSuchKey", "The specified key does not exist.", key) from None

    def _set_object_headers(self, path: str, info: os.stat_result) -> None:
        self.set_header("Content-Type", "application/octet-stream")
        self.set_header("Content-Length", str(info.st_size))
        self.set_header("ETag", _etag(_md5_of(path)))
        self.set_header(
            "Last-Modified", datetime.datetime.fromtimestamp(info.st_mtime, datetime.UTC)
        )

    def head(self, bucket: str, key: str) -> None:
        path, info = self._stat(bucket, key)
        self._set_object_headers(path, info)
        self.finish()

    async def get(self, bucket: str, key: str) -> None:
        path, info = self._stat(bucket, key)
        self._set_object_headers(path, info)
        # Local disk reads of one block are short next to the network time.
        with open(path, "rb") as f:  # noqa: ASYNC230
            while True:
                block = f.read(_READ_SIZE)
                if not block:
                    break
                self.write(block)
                # Wait until the block has gone out: a large object is never
                # in memory all at once.
                await self.flush()

    def delete(self, bucket: str, key: str) -> None:
        path = self.object_path(bucket, key)
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass  # S3 answers the same whether or not the key existed
        self.set_status(204)
        self.finish()


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
