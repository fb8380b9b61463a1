"""Packaging for the ``tornado`` distribution (setuptools)."""

import os
import re

from setuptools import Extension, setup

HERE = os.path.dirname(os.path.abspath(__file__))


def _version() -> str:
    with open(os.path.join(HERE, "tornado", "__init__.py"), encoding="utf-8") as f:
        match = re.search(r'^version = "([^"]+)"', f.read(), re.M)
    assert match, "tornado/__init__.py must define version"
    return match.group(1)


def _long_description() -> str:
    with open(os.path.join(HERE, "README.rst"), encoding="utf-8") as f:
        return f.read()


def _extensions() -> list:
    """The C accelerator, tornado.speedups.

    It is optional: where no compiler is available the build goes on
    without it and the pure-Python twins are used.  TORNADO_EXTENSION=0
    leaves it out, TORNADO_EXTENSION=1 makes a failed build an error (for
    CI and packagers who want to be sure they ship it).
    """
    wanted = os.environ.get("TORNADO_EXTENSION", "")
    if wanted == "0":
        return []
    return [Extension("tornado.speedups", ["tornado/speedups.c"], optional=wanted != "1")]


TEST_REQUIRES = [
    "pytest>=8",
    "pytest-timeout>=2.3",
    "hypothesis>=6.100",
    # The WebSocket frame reader is checked against wsproto's.
    "wsproto>=1.2",
    "pycurl>=7.45",
    "pycares>=4.4",
    "twisted>=24.7",
    "flask>=3.0",
    # The demos' tests: a real browser (Debian's chromium, driven by
    # Playwright's Python package; its own browser download is never used)
    # and a real S3 client against the s3server demo.
    "playwright>=1.40",
    "botocore>=1.31",
    # Independent HTTP/1 parsers that tests/test_http1_differential.py
    # checks ours against.
    "h11>=0.16",
    "httptools>=0.6",
    # br and zstd response compression (the "compression" extra).
    "brotli>=1.1",
    "zstandard>=0.22",
    # tests/test_internals.py wraps Tornado internals the way APM agents do.
    "wrapt>=1.14",
    # tornado.asgi's tests: ASGI frameworks on our server, our applications
    # on ASGI servers, httpx's in-process ASGI transport.
    "fastapi>=0.110",
    "starlette>=0.37",
    "python-multipart>=0.0.9",
    "httpx>=0.27",
    "uvicorn>=0.30",
    "websockets>=12",
    "hypercorn>=0.17",
    "granian>=1.6",
    "daphne>=4.1",
    # The chat demos' --redis option (asyncio client), run by
    # tests/test_demo_deploy.py against Debian's redis-server.
    "redis>=5.0.1",
    # pyzmq's ZMQStream on our IOLoop (as Jupyter's kernel channels use it).
    "pyzmq>=25",
    # HTTP/2 (the "http2" extra) and its tests: httpx's http2 client.
    "h2>=4.1",
    "httpx[http2]>=0.27",
    # The s3server demo's tests: boto3's transfer manager (multipart uploads,
    # ranged downloads) against it.
    "boto3>=1.34",
]

setup(
    name="tornado",
    version=_version(),
    description="A web framework and asynchronous networking library.",
    long_description=_long_description(),
    long_description_content_type="text/x-rst",
    license="Apache-2.0",
    python_requires=">=3.11",
    packages=["tornado", "tornado.platform"],
    package_data={"tornado": ["py.typed", "test/test.crt", "test/test.key"]},
    ext_modules=_extensions(),
    extras_require={
        "curl": ["pycurl>=7.45"],
        "cares": ["pycares>=4.4"],
        "twisted": ["twisted>=24.7"],
        # br and zstd for compress_response and decompress_response (the
        # standard library's compression.zstd is used where present).
        "compression": ["brotli>=1.1", "zstandard>=0.22; python_version < '3.14'"],
        # HTTPServer(..., http2=True): tornado.http2connection.
        "http2": ["h2>=4.1"],
        "test": TEST_REQUIRES,
        "docs": ["sphinx>=7.2"],
    },
    # What CI tests: CPython 3.11, 3.12 and 3.13 on Linux, with the C
    # accelerator built and with its pure-Python fallback.
    classifiers=[
        "License :: OSI Approved :: Apache Software License",
        "Programming Language :: Python :: 3",
        "Programming Language :: Python :: 3 :: Only",
        "Programming Language :: Python :: 3.11",
        "Programming Language :: Python :: 3.12",
        "Programming Language :: Python :: 3.13",
        "Programming Language :: Python :: Implementation :: CPython",
        "Programming Language :: C",
        "Operating System :: POSIX :: Linux",
        "Framework :: AsyncIO",
    ],
)
