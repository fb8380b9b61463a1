"""End-to-end tests of demos/s3server, the local S3-compatible object store.

The protocol is checked with plain HTTP requests; when botocore (the library
under boto3 and the AWS CLI) is installed, a real S3 client is run against
the server too.
"""

import hashlib
import http.client
import urllib.parse
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_demo_harness import Demo, running

SCRIPT = "s3server/s3server.py"
NS = "{http://s3.amazonaws.com/doc/2006-03-01/}"


@pytest.fixture
def s3(tmp_path: Path) -> Iterator[Demo]:
    with running(SCRIPT, f"--root_directory={tmp_path / 'data'}") as demo:
        yield demo


def call(
    demo: Demo, method: str, path: str, body: bytes | None = None, query: dict[str, str] | None = None
) -> tuple[int, dict[str, str], bytes]:
    if query:
        path += "?" + urllib.parse.urlencode(query)
    conn = http.client.HTTPConnection("127.0.0.1", demo.port, timeout=30)
    conn.request(method, path, body=body)
    response = conn.getresponse()
    data = response.read()
    conn.close()
    return response.status, {k.lower(): v for k, v in response.getheaders()}, data


def xml(body: bytes) -> ET.Element:
    return ET.fromstring(body)


def listing(demo: Demo, bucket: str, **query: str) -> ET.Element:
    status, headers, body = call(demo, "GET", "/" + bucket, query=query)
    assert status == 200, body
    assert headers["content-type"].startswith("application/xml")
    root = xml(body)
    assert root.tag == NS + "ListBucketResult"
    return root


def keys(root: ET.Element) -> list[str]:
    return [c.findtext(NS + "Key") or "" for c in root.findall(NS + "Contents")]


def error_code(body: bytes) -> str | None:
    return xml(body).findtext("Code")


def test_bucket_lifecycle(s3: Demo) -> None:
    status, _, body = call(s3, "GET", "/")
    assert status == 200
    root = xml(body)
    assert root.tag == NS + "ListAllMyBucketsResult"
    assert root.findall(f"{NS}Buckets/{NS}Bucket") == []

    assert call(s3, "HEAD", "/photos")[0] == 404
    assert call(s3, "PUT", "/photos")[0] == 200
    assert call(s3, "HEAD", "/photos")[0] == 200
    status, _, body = call(s3, "PUT", "/photos")
    assert status == 409 and error_code(body) == "BucketAlreadyOwnedByYou"
    assert call(s3, "PUT", "/archive")[0] == 200

    root = xml(call(s3, "GET", "/")[2])
    names = [b.findtext(NS + "Name") for b in root.findall(f"{NS}Buckets/{NS}Bucket")]
    assert names == ["archive", "photos"]
    assert root.find(f"{NS}Buckets/{NS}Bucket/{NS}CreationDate").text.endswith("Z")

    call(s3, "PUT", "/photos/cat.jpg", b"meow")
    status, _, body = call(s3, "DELETE", "/photos")
    assert status == 409 and error_code(body) == "BucketNotEmpty"
    assert call(s3, "DELETE", "/photos/cat.jpg")[0] == 204
    assert call(s3, "DELETE", "/photos")[0] == 204
    status, _, body = call(s3, "DELETE", "/photos")
    assert status == 404 and error_code(body) == "NoSuchBucket"


def test_invalid_bucket_name(s3: Demo) -> None:
    status, _, body = call(s3, "PUT", "/No_Such..Name")
    assert status == 400 and error_code(body) == "InvalidBucketName"


def test_objects(s3: Demo) -> None:
    assert call(s3, "PUT", "/bkt1")[0] == 200
    data = bytes(range(256)) * 1000
    status, headers, _ = call(s3, "PUT", "/bkt1/dir/file.bin", data)
    assert status == 200
    etag = f'"{hashlib.md5(data).hexdigest()}"'
    assert headers["etag"] == etag

    status, headers, body = call(s3, "GET", "/bkt1/dir/file.bin")
    assert status == 200 and body == data
    assert headers["etag"] == etag
    assert int(headers["content-length"]) == len(data)
    assert headers["last-modified"].endswith("GMT")

    status, headers, body = call(s3, "HEAD", "/bkt1/dir/file.bin")
    assert status == 200 and body == b"" and int(headers["content-length"]) == len(data)

    # Keys are arbitrary strings: spaces, unicode, many slashes, dots.
    odd = "odd name/ünïcode/../x.txt"
    path = "/bkt1/" + urllib.parse.quote(odd)
    assert call(s3, "PUT", path, b"odd")[0] == 200
    assert call(s3, "GET", path)[2] == b"odd"
    assert odd in keys(listing(s3, "bkt1"))

    status, _, body = call(s3, "GET", "/bkt1/nope")
    assert status == 404 and error_code(body) == "NoSuchKey"
    assert call(s3, "HEAD", "/bkt1/nope")[0] == 404
    assert call(s3, "DELETE", "/bkt1/nope")[0] == 204
    status, _, body = call(s3, "PUT", "/missing-bucket/key", b"x")
    assert status == 404 and error_code(body) == "NoSuchBucket"


def test_listing_with_prefix_marker_and_max_keys(s3: Demo) -> None:
    call(s3, "PUT", "/logs")
    names = [f"2024/01/{d:02}.log" for d in range(1, 6)] + ["2024/02/01.log", "readme.txt"]
    for name in names:
        call(s3, "PUT", "/logs/" + name, name.encode())

    root = listing(s3, "logs")
    assert keys(root) == sorted(names)
    assert root.findtext(NS + "IsTruncated") == "false"
    assert root.findtext(NS + "MaxKeys") == "1000"
    first = root.find(NS + "Contents")
    assert first.findtext(NS + "Size") == str(len(names[0]))
    assert first.findtext(NS + "ETag") == f'"{hashlib.md5(names[0].encode()).hexdigest()}"'

    assert keys(listing(s3, "logs", prefix="2024/01/")) == names[:5]
    assert keys(listing(s3, "logs", marker="2024/01/03.log")) == sorted(names)[3:]

    page = listing(s3, "logs", prefix="2024/", **{"max-keys": "2"})
    assert keys(page) == names[:2]
    assert page.findtext(NS + "IsTruncated") == "true"
    assert page.findtext(NS + "NextMarker") == names[1]
    # Walking the pages with the marker visits every key exactly once.
    seen: list[str] = []
    marker = ""
    while True:
        page = listing(s3, "logs", prefix="2024/", marker=marker, **{"max-keys": "2"})
        seen += keys(page)
        if page.findtext(NS + "IsTruncated") != "true":
            break
        marker = page.findtext(NS + "NextMarker") or ""
    assert seen == names[:6]

    rolled = listing(s3, "logs", delimiter="/")
    assert keys(rolled) == ["readme.txt"]
    assert [p.findtext(NS + "Prefix") for p in rolled.findall(NS + "CommonPrefixes")] == ["2024/"]
    months = listing(s3, "logs", prefix="2024/", delimiter="/")
    assert [p.findtext(NS + "Prefix") for p in months.findall(NS + "CommonPrefixes")] == [
        "2024/01/",
        "2024/02/",
    ]

    v2 = listing(s3, "logs", **{"list-type": "2", "max-keys": "3"})
    assert keys(v2) == sorted(names)[:3]
    assert v2.findtext(NS + "KeyCount") == "3"
    token = v2.findtext(NS + "NextContinuationToken")
    rest = listing(s3, "logs", **{"list-type": "2", "continuation-token": token or ""})
    assert keys(rest) == sorted(names)[3:]

    assert call(s3, "GET", "/logs", query={"max-keys": "lots"})[0] == 400


def test_with_a_real_s3_client(s3: Demo) -> None:
    botocore_session = pytest.importorskip("botocore.session")
    from botocore.config import Config

    client = botocore_session.get_session().create_client(
        "s3",
        endpoint_url=s3.url(),
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(
            s3={"addressing_style": "path"},
            retries={"max_attempts": 1},
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
        ),
    )
    client.create_bucket(Bucket="boto-bucket")
    assert [b["Name"] for b in client.list_buckets()["Buckets"]] == ["boto-bucket"]
    client.put_object(Bucket="boto-bucket", Key="a/one.txt", Body=b"1")
    client.put_object(Bucket="boto-bucket", Key="a/two.txt", Body=b"22")
    client.put_object(Bucket="boto-bucket", Key="b.txt", Body=b"333")
    got = client.get_object(Bucket="boto-bucket", Key="a/two.txt")
    assert got["Body"].read() == b"22"
    assert got["ContentLength"] == 2
    listed = client.list_objects(Bucket="boto-bucket", Prefix="a/")
    assert [o["Key"] for o in listed["Contents"]] == ["a/one.txt", "a/two.txt"]
    assert [o["Size"] for o in listed["Contents"]] == [1, 2]
    paginator = client.get_paginator("list_objects_v2")
    pages = list(paginator.paginate(Bucket="boto-bucket", PaginationConfig={"PageSize": 1}))
    assert [o["Key"] for p in pages for o in p.get("Contents", [])] == ["a/one.txt", "a/two.txt", "b.txt"]
    head = client.head_object(Bucket="boto-bucket", Key="b.txt")
    assert head["ContentLength"] == 3
    for key in ("a/one.txt", "a/two.txt", "b.txt"):
        client.delete_object(Bucket="boto-bucket", Key=key)
    client.delete_bucket(Bucket="boto-bucket")
    assert client.list_buckets()["Buckets"] == []
