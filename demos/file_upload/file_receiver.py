#!/usr/bin/env python3
"""A server that writes uploads to disk while they arrive.

``PUT /upload/<name>`` with the file as the raw request body stores it in
``--upload_dir``.  The handler is decorated with
:func:`tornado.web.stream_request_body`, so Tornado hands over the body in
chunks as they come off the network (``data_received``) instead of
collecting it in memory first: the server's memory use stays the same
whether the upload is one kilobyte or many gigabytes.  Each chunk also goes
into a SHA-256 digest, which the response reports so a client can check that
the copy on disk is exact.

The body is written to a hidden temporary file that is renamed into place
only once the upload is complete; an interrupted upload leaves nothing
behind.

Run it, then send it a file with ``file_uploader.py``::

    python3 demos/file_upload/file_receiver.py --port=8888 --upload_dir=/tmp/uploads
    python3 demos/file_upload/file_uploader.py --server=http://localhost:8888 big.iso
"""

import asyncio
import hashlib
import os
import re
import tempfile
from typing import BinaryIO

import tornado.template
import tornado.web
from tornado.log import app_log
from tornado.options import define, options, parse_command_line

define("port", default=8888, help="port to listen on", type=int)
define("upload_dir", default="uploads", help="directory where uploads are stored")
define(
    "max_size",
    default=10 * 1024**3,
    help="largest accepted upload in bytes (the default is 10 GiB)",
    type=int,
)

# A stored name: no path separators, no leading dot, nothing surprising.
_SAFE_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,199}$")


# A page to upload from a browser.  The browser streams the chosen file as
# the body of a PUT, exactly like file_uploader.py or curl -T.
_INDEX = """<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>File upload</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 2rem auto">
  <h1>File upload</h1>
  <p><input type="file" id="file"> <button id="send">Upload</button></p>
  <p><progress id="progress" max="1" value="0"></progress> <span id="status"></span></p>
  <p>From a shell: <code>curl -T FILE {{ request.protocol }}://{{ request.host }}/upload/NAME</code></p>
  <script>
    document.getElementById("send").onclick = function () {
      const file = document.getElementById("file").files[0];
      const status = document.getElementById("status");
      if (!file) { status.textContent = "Choose a file first."; return; }
      const name = file.name.replace(/[^A-Za-z0-9_.-]/g, "_").replace(/^[.-]+/, "");
      const xhr = new XMLHttpRequest();
      xhr.upload.onprogress = function (e) {
        document.getElementById("progress").value = e.loaded / e.total;
      };
      xhr.onload = function () {
        status.textContent = xhr.status === 201
          ? "Stored " + JSON.parse(xhr.responseText).name
          : "Failed: " + xhr.status + " " + xhr.statusText;
      };
      xhr.onerror = function () { status.textContent = "Failed: network error"; };
      xhr.open("PUT", "/upload/" + encodeURIComponent(name || "upload"));
      xhr.send(file);
    };
  </script>
</body>
</html>
"""


class IndexHandler(tornado.web.RequestHandler):
    def get(self) -> None:
        self.render("index.html")


@tornado.web.stream_request_body
class UploadHandler(tornado.web.RequestHandler):
    """Streams ``PUT /upload/<name>`` to disk."""

    SUPPORTED_METHODS = ("PUT",)

    def initialize(self, upload_dir: str, max_size: int) -> None:
        self.upload_dir = upload_dir
        self.max_size = max_size
        self.temp: BinaryIO | None = None
        self.temp_path = ""
        self.digest = hashlib.sha256()
        self.received = 0

    def prepare(self) -> None:
        name = self.path_args[0]
        if not _SAFE_NAME.match(name):
            raise tornado.web.HTTPError(400, reason="Bad file name")
        # The server-wide limit (100 MB by default) is meant for ordinary
        # requests; this handler never holds the body, so it may allow more.
        self.request.connection.set_max_body_size(self.max_size)  # type: ignore[attr-defined]
        os.makedirs(self.upload_dir, exist_ok=True)
        fd, self.temp_path = tempfile.mkstemp(prefix=".upload-", dir=self.upload_dir)
        self.temp = os.fdopen(fd, "wb")

    def data_received(self, chunk: bytes) -> None:
        assert self.temp is not None
        self.temp.write(chunk)
        self.digest.update(chunk)
        self.received += len(chunk)

    def put(self, name: str) -> None:
        assert self.temp is not None
        self.temp.close()
        final = os.path.join(self.upload_dir, name)
        os.replace(self.temp_path, final)
        self.temp = None
        app_log.info("stored %s (%d bytes)", final, self.received)
        self.set_status(201)
        self.write({"name": name, "size": self.received, "sha256": self.digest.hexdigest()})

    def on_finish(self) -> None:
        self._discard()

    def on_connection_close(self) -> None:
        # The client went away in the middle of the upload.
        self._discard()

    def _discard(self) -> None:
        if self.temp is not None:
            self.temp.close()
            try:
                os.unlink(self.temp_path)
            except FileNotFoundError:
                pass
            self.temp = None


def make_app(upload_dir: str, max_size: int) -> tornado.web.Application:
    return tornado.web.Application(
        template_loader=tornado.template.DictLoader({"index.html": _INDEX}),
        handlers=[
            (r"/", IndexHandler),
            (
                r"/upload/([^/]+)",
                UploadHandler,
                {"upload_dir": upload_dir, "max_size": max_size},
            ),
        ]
    )


async def main() -> None:
    parse_command_line()
    upload_dir = os.path.abspath(options.upload_dir)
    app = make_app(upload_dir, options.max_size)
    app.listen(options.port)
    app_log.info("storing uploads in %s", upload_dir)
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main())
