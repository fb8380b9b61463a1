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


# Ranges -------------------------------------------------------------------------


def test_ranged_get_and_head(s3: Demo) -> None:
    call(s3, "PUT", "/ranges")
    data = bytes(range(256)) * 4  # 1024 bytes
    call(s3, "PUT", "/ranges/obj", data)

    def get(range_header: str, method: str = "GET") -> tuple[int, dict[str, str], bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", s3.port, timeout=30)
        conn.request(method, "/ranges/obj", headers={"Range": range_header})
        response = conn.getresponse()
        body = response.read()
        conn.close()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, body

    cases = {
        "bytes=0-99": (0, 100),
        "bytes=1000-": (1000, 1024),  # open
        "bytes=-24": (1000, 1024),  # suffix
        "bytes=-5000": (0, 1024),  # a suffix longer than the object: all of it
        "bytes=1020-5000": (1020, 1024),  # the end is clipped
        "bytes=5-5": (5, 6),
    }
    for header, (start, end) in cases.items():
        status, headers, body = get(header)
        assert status == 206, header
        assert body == data[start:end], header
        assert headers["content-range"] == f"bytes {start}-{end - 1}/1024", header
        assert int(headers["content-length"]) == end - start
        assert headers["etag"] == f'"{hashlib.md5(data).hexdigest()}"'

    status, headers, body = get("bytes=0-99", "HEAD")
    assert status == 206 and body == b""
    assert headers["content-length"] == "100" and headers["content-range"] == "bytes 0-99/1024"

    # Starting at or beyond the end, or an empty suffix: unsatisfiable.
    for header in ("bytes=1024-", "bytes=2000-3000", "bytes=-0"):
        status, headers, body = get(header)
        assert status == 416, header
        assert headers["content-range"] == "bytes */1024"
        root = xml(body)
        assert root.findtext("Code") == "InvalidRange"
        assert root.findtext("ActualObjectSize") == "1024"
        assert root.findtext("RangeRequested") == header

    # Several ranges (S3 serves one per request), a backwards range and other
    # units are ignored: the whole object, 200.
    for header in ("bytes=0-1,5-6", "bytes=9-3", "items=0-5", "bytes=x-y"):
        status, headers, body = get(header)
        assert status == 200 and body == data, header
        assert "content-range" not in headers
    assert call(s3, "GET", "/ranges/obj")[1]["accept-ranges"] == "bytes"

    call(s3, "PUT", "/ranges/empty", b"")
    conn = http.client.HTTPConnection("127.0.0.1", s3.port, timeout=30)
    conn.request("GET", "/ranges/empty", headers={"Range": "bytes=0-"})
    assert conn.getresponse().status == 416
    conn.close()


def test_keys_with_leading_dots_are_objects(s3: Demo) -> None:
    call(s3, "PUT", "/dots")
    for key in (".", "..", ".hidden", ".meta", ".uploads"):
        path = "/dots/" + urllib.parse.quote(key, safe="")
        assert call(s3, "PUT", path, key.encode())[0] == 200, key
        assert call(s3, "GET", path)[2] == key.encode(), key
    assert keys(listing(s3, "dots")) == sorted([".", "..", ".hidden", ".meta", ".uploads"])


# Multipart uploads ----------------------------------------------------------------

MiB = 1024 * 1024


def multipart_etag(*parts: bytes) -> str:
    joined = b"".join(hashlib.md5(p).digest() for p in parts)
    return f'"{hashlib.md5(joined).hexdigest()}-{len(parts)}"'


def complete_xml(parts: list[tuple[int, str]]) -> bytes:
    items = "".join(f"<Part><PartNumber>{n}</PartNumber><ETag>{e}</ETag></Part>" for n, e in parts)
    return f'<CompleteMultipartUpload xmlns="{NS[1:-1]}">{items}</CompleteMultipartUpload>'.encode()


def test_multipart_upload_by_hand(s3: Demo) -> None:
    call(s3, "PUT", "/mpu")
    status, _, body = call(s3, "POST", "/mpu/big%20file.bin?uploads")
    assert status == 200
    root = xml(body)
    assert root.tag == NS + "InitiateMultipartUploadResult"
    assert root.findtext(NS + "Key") == "big file.bin"
    upload_id = root.findtext(NS + "UploadId") or ""

    part1, part2, part3 = b"a" * (5 * MiB), b"b" * (5 * MiB + 7), b"tail"
    query = {"uploadId": upload_id}
    etags = {}
    for number, data in ((1, part1), (2, b"replaced below"), (2, part2), (3, part3)):
        status, headers, _ = call(s3, "PUT", "/mpu/big%20file.bin", data, {**query, "partNumber": str(number)})
        assert status == 200
        assert headers["etag"] == f'"{hashlib.md5(data).hexdigest()}"'
        etags[number] = headers["etag"]

    status, _, body = call(s3, "GET", "/mpu/big%20file.bin", query=query)
    root = xml(body)
    assert root.tag == NS + "ListPartsResult"
    assert [p.findtext(NS + "PartNumber") for p in root.findall(NS + "Part")] == ["1", "2", "3"]
    assert [p.findtext(NS + "Size") for p in root.findall(NS + "Part")] == [
        str(len(part1)),
        str(len(part2)),
        "4",
    ]
    assert root.find(NS + "Part").findtext(NS + "ETag") == etags[1]
    page = xml(call(s3, "GET", "/mpu/big%20file.bin", query={**query, "max-parts": "2"})[2])
    assert page.findtext(NS + "IsTruncated") == "true"
    assert page.findtext(NS + "NextPartNumberMarker") == "2"
    rest = xml(call(s3, "GET", "/mpu/big%20file.bin", query={**query, "part-number-marker": "2"})[2])
    assert [p.findtext(NS + "PartNumber") for p in rest.findall(NS + "Part")] == ["3"]

    uploads = xml(call(s3, "GET", "/mpu", query={"uploads": ""})[2])
    assert [u.findtext(NS + "UploadId") for u in uploads.findall(NS + "Upload")] == [upload_id]
    # An upload in progress is not an object.
    assert keys(listing(s3, "mpu")) == []

    def complete(document: bytes) -> tuple[int, bytes]:
        status, _, body = call(s3, "POST", "/mpu/big%20file.bin", document, query)
        return status, body

    status, body = complete(complete_xml([(2, etags[2]), (1, etags[1])]))
    assert status == 400 and error_code(body) == "InvalidPartOrder"
    status, body = complete(complete_xml([(1, etags[1]), (2, etags[1])]))
    assert status == 400 and error_code(body) == "InvalidPart"
    status, body = complete(complete_xml([(1, etags[1]), (4, etags[1])]))
    assert status == 400 and error_code(body) == "InvalidPart"
    status, body = complete(complete_xml([(3, etags[3]), (4, etags[3])])[:0] + b"<oops")
    assert status == 400 and error_code(body) == "MalformedXML"
    status, body = complete(complete_xml([]))
    assert status == 400 and error_code(body) == "MalformedXML"

    status, body = complete(complete_xml([(1, etags[1]), (2, etags[2]), (3, etags[3])]))
    assert status == 200, body
    root = xml(body)
    assert root.tag == NS + "CompleteMultipartUploadResult"
    assert root.findtext(NS + "ETag") == multipart_etag(part1, part2, part3)
    assert root.findtext(NS + "Location").endswith("/mpu/big%20file.bin")

    status, headers, body = call(s3, "GET", "/mpu/big%20file.bin")
    assert status == 200 and body == part1 + part2 + part3
    assert headers["etag"] == multipart_etag(part1, part2, part3)
    contents = listing(s3, "mpu").find(NS + "Contents")
    assert contents.findtext(NS + "ETag") == multipart_etag(part1, part2, part3)
    assert contents.findtext(NS + "Size") == str(len(part1 + part2 + part3))
    # The upload is over: its id means nothing any more.
    status, _, body = call(s3, "GET", "/mpu/big%20file.bin", query=query)
    assert status == 404 and error_code(body) == "NoSuchUpload"
    assert xml(call(s3, "GET", "/mpu", query={"uploads": ""})[2]).findall(NS + "Upload") == []


def test_multipart_rules(s3: Demo) -> None:
    call(s3, "PUT", "/rules")
    upload_id = xml(call(s3, "POST", "/rules/k?uploads")[2]).findtext(NS + "UploadId") or ""
    query = {"uploadId": upload_id}
    small = call(s3, "PUT", "/rules/k", b"x" * 100, {**query, "partNumber": "1"})[1]["etag"]
    last = call(s3, "PUT", "/rules/k", b"y", {**query, "partNumber": "2"})[1]["etag"]
    # Every part but the last must be 5 MiB or more.
    status, _, body = call(s3, "POST", "/rules/k", complete_xml([(1, small), (2, last)]), query)
    assert status == 400 and error_code(body) == "EntityTooSmall"
    # One part may be small: it is the last.
    status, _, body = call(s3, "POST", "/rules/k", complete_xml([(2, last)]), query)
    assert status == 200
    assert call(s3, "GET", "/rules/k")[2] == b"y"

    for number in ("0", "10001", "two"):
        upload_id = xml(call(s3, "POST", "/rules/k?uploads")[2]).findtext(NS + "UploadId") or ""
        status, _, body = call(s3, "PUT", "/rules/k", b"z", {"uploadId": upload_id, "partNumber": number})
        assert status == 400 and error_code(body) == "InvalidArgument"
    # Unknown ids, ids of another key, ids that try to leave the directory.
    for bad in ("0" * 32, "../../etc", upload_id.upper()):
        status, _, body = call(s3, "PUT", "/rules/k", b"z", {"uploadId": bad, "partNumber": "1"})
        assert status == 404 and error_code(body) == "NoSuchUpload", bad
    status, _, body = call(s3, "GET", "/rules/other", query={"uploadId": upload_id})
    assert status == 404 and error_code(body) == "NoSuchUpload"

    # Abort: the parts are gone, and so is the id.
    call(s3, "PUT", "/rules/k", b"z", {"uploadId": upload_id, "partNumber": "1"})
    assert call(s3, "DELETE", "/rules/k", query={"uploadId": upload_id})[0] == 204
    status, _, body = call(s3, "DELETE", "/rules/k", query={"uploadId": upload_id})
    assert status == 404 and error_code(body) == "NoSuchUpload"
    assert call(s3, "GET", "/rules/k")[2] == b"y"  # the object is untouched
    assert call(s3, "POST", "/rules/k")[0] == 405

    # A bucket with an unfinished upload and no objects may be deleted.
    call(s3, "DELETE", "/rules/k")
    call(s3, "POST", "/rules/k?uploads")
    assert call(s3, "DELETE", "/rules")[0] == 204


# Integrity checks and aws-chunked bodies ------------------------------------------


def test_content_md5_and_checksums_are_checked(s3: Demo) -> None:
    import base64
    import zlib

    call(s3, "PUT", "/sums")
    data = b"checked payload"

    def put(headers: dict[str, str], body: bytes = data) -> tuple[int, dict[str, str], bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", s3.port, timeout=30)
        conn.request("PUT", "/sums/obj", body=body, headers=headers)
        response = conn.getresponse()
        answer = response.read()
        conn.close()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, answer

    md5 = base64.b64encode(hashlib.md5(data).digest()).decode()
    crc = base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()
    sha256 = base64.b64encode(hashlib.sha256(data).digest()).decode()
    status, headers, _ = put({"Content-MD5": md5, "x-amz-checksum-crc32": crc})
    assert status == 200 and headers["x-amz-checksum-crc32"] == crc
    assert put({"x-amz-checksum-sha256": sha256})[0] == 200

    status, _, body = put({"Content-MD5": md5}, b"tampered payload")
    assert status == 400 and error_code(body) == "BadDigest"
    status, _, body = put({"x-amz-checksum-crc32": crc}, b"tampered payload")
    assert status == 400 and error_code(body) == "BadDigest"
    status, _, body = put({"Content-MD5": "not base64!"})
    assert status == 400 and error_code(body) == "InvalidDigest"
    # The refused uploads left the stored object alone.
    assert call(s3, "GET", "/sums/obj")[2] == data


def test_aws_chunked_bodies_are_decoded(s3: Demo) -> None:
    import base64
    import zlib

    call(s3, "PUT", "/chunks")
    data = bytes(range(256)) * 300
    crc = base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()

    def framed(trailer_crc: str, signed: bool) -> bytes:
        out = b""
        for i in range(0, len(data), 10000):
            chunk = data[i : i + 10000]
            extension = b";chunk-signature=" + b"0" * 64 if signed else b""
            out += b"%x" % len(chunk) + extension + b"\r\n" + chunk + b"\r\n"
        out += b"0" + (b";chunk-signature=" + b"0" * 64 if signed else b"") + b"\r\n"
        out += f"x-amz-checksum-crc32:{trailer_crc}\r\n\r\n".encode()
        return out

    def put(body: bytes) -> tuple[int, bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", s3.port, timeout=30)
        headers = {
            "Content-Encoding": "aws-chunked",
            "x-amz-decoded-content-length": str(len(data)),
            "x-amz-trailer": "x-amz-checksum-crc32",
            "x-amz-content-sha256": "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
        }
        conn.request("PUT", "/chunks/obj", body=body, headers=headers)
        response = conn.getresponse()
        answer = response.read()
        conn.close()
        return response.status, answer

    for signed in (False, True):
        status, body = put(framed(crc, signed))
        assert status == 200, body
        stored = call(s3, "GET", "/chunks/obj")
        assert stored[2] == data
        assert stored[1]["etag"] == f'"{hashlib.md5(data).hexdigest()}"'
    wrong = base64.b64encode(b"\0\0\0\0").decode()
    status, body = put(framed(wrong, False))
    assert status == 400 and error_code(body) == "BadDigest"
    status, body = put(framed(crc, False)[:-40])
    assert status == 400 and error_code(body) == "IncompleteBody"
    status, body = put(b"zz\r\n" + framed(crc, False))
    assert status == 400 and error_code(body) == "IncompleteBody"


# A real S3 client: botocore's calls, boto3's transfer manager -----------------------


def boto_client(demo: Demo, **config: object) -> object:
    """A botocore S3 client for the demo, with the library's defaults otherwise."""
    botocore_session = pytest.importorskip("botocore.session")
    from botocore.config import Config

    return botocore_session.get_session().create_client(
        "s3",
        endpoint_url=demo.url(),
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}, **config),
    )


def test_botocore_ranged_and_multipart_calls(s3: Demo) -> None:
    client = boto_client(s3)
    client.create_bucket(Bucket="calls")
    data = bytes(range(256)) * 100
    put = client.put_object(Bucket="calls", Key="obj", Body=data, ContentType="text/plain")
    import botocore

    if tuple(int(x) for x in botocore.__version__.split(".")[:2]) >= (1, 36):
        # botocore sends a CRC32 of every upload by default: checked and echoed.
        import base64
        import zlib

        assert put["ChecksumCRC32"] == base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()

    got = client.get_object(Bucket="calls", Key="obj", Range="bytes=100-199")
    assert got["ResponseMetadata"]["HTTPStatusCode"] == 206
    assert got["ContentRange"] == f"bytes 100-199/{len(data)}"
    assert got["Body"].read() == data[100:200]
    assert got["ContentType"] == "text/plain"
    assert client.get_object(Bucket="calls", Key="obj", Range="bytes=-10")["Body"].read() == data[-10:]
    head = client.head_object(Bucket="calls", Key="obj", Range="bytes=0-0")
    assert head["ContentLength"] == 1
    botocore_exceptions = pytest.importorskip("botocore.exceptions")
    with pytest.raises(botocore_exceptions.ClientError) as raised:
        client.get_object(Bucket="calls", Key="obj", Range=f"bytes={len(data)}-")
    assert raised.value.response["Error"]["Code"] == "InvalidRange"

    created = client.create_multipart_upload(Bucket="calls", Key="parts/x", ContentType="video/mp4")
    upload_id = created["UploadId"]
    parts_data = [os_random(5 * MiB), os_random(3 * MiB)]
    parts = []
    for number, body in enumerate(parts_data, 1):
        answer = client.upload_part(Bucket="calls", Key="parts/x", UploadId=upload_id, PartNumber=number, Body=body)
        parts.append({"PartNumber": number, "ETag": answer["ETag"]})
    listed = client.list_parts(Bucket="calls", Key="parts/x", UploadId=upload_id)
    assert [(p["PartNumber"], p["ETag"], p["Size"]) for p in listed["Parts"]] == [
        (1, parts[0]["ETag"], 5 * MiB),
        (2, parts[1]["ETag"], 3 * MiB),
    ]
    uploads = client.list_multipart_uploads(Bucket="calls")["Uploads"]
    assert [(u["Key"], u["UploadId"]) for u in uploads] == [("parts/x", upload_id)]
    done = client.complete_multipart_upload(
        Bucket="calls", Key="parts/x", UploadId=upload_id, MultipartUpload={"Parts": parts}
    )
    assert done["ETag"] == multipart_etag(*parts_data)
    head = client.head_object(Bucket="calls", Key="parts/x")
    assert head["ETag"] == multipart_etag(*parts_data)
    assert head["ContentLength"] == 8 * MiB and head["ContentType"] == "video/mp4"
    assert client.get_object(Bucket="calls", Key="parts/x")["Body"].read() == b"".join(parts_data)

    aborted = client.create_multipart_upload(Bucket="calls", Key="gone")["UploadId"]
    client.upload_part(Bucket="calls", Key="gone", UploadId=aborted, PartNumber=1, Body=b"x")
    client.abort_multipart_upload(Bucket="calls", Key="gone", UploadId=aborted)
    with pytest.raises(botocore_exceptions.ClientError) as raised:
        client.list_parts(Bucket="calls", Key="gone", UploadId=aborted)
    assert raised.value.response["Error"]["Code"] == "NoSuchUpload"


def os_random(size: int) -> bytes:
    import os

    return os.urandom(size)


def write_random_file(path: Path, size: int) -> str:
    """Fill ``path`` with ``size`` random bytes; return their MD5."""
    import os

    digest = hashlib.md5()
    with path.open("wb") as f:
        for offset in range(0, size, MiB):
            block = os.urandom(min(MiB, size - offset))
            digest.update(block)
            f.write(block)
    return digest.hexdigest()


def md5_of_file(path: Path) -> str:
    digest = hashlib.md5()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(MiB), b""):
            digest.update(block)
    return digest.hexdigest()


@pytest.mark.timeout(600)
def test_boto3_transfer_manager_large_objects(tmp_path: Path) -> None:
    """upload_file/download_file with boto3's defaults: 8 MB multipart
    threshold and chunks, ten threads, ranged GETs for the download."""
    boto3 = pytest.importorskip("boto3")
    from boto3.s3.transfer import TransferConfig

    assert TransferConfig().multipart_threshold == 8 * MiB
    with running(SCRIPT, f"--root_directory={tmp_path / 'data'}") as demo:
        client = boto3.client(
            "s3",
            endpoint_url=demo.url(),
            region_name="us-east-1",
            aws_access_key_id="test",
            aws_secret_access_key="test",
        )
        client.create_bucket(Bucket="transfers")
        # Warm up (imports, first requests), then take the baseline.
        client.put_object(Bucket="transfers", Key="warm", Body=b"x" * MiB)
        client.get_object(Bucket="transfers", Key="warm")["Body"].read()

        for size in (20_000_000, 100_000_000):
            source = tmp_path / f"up-{size}"
            expected = write_random_file(source, size)
            before = demo.memory_kib("VmHWM")
            client.upload_file(str(source), "transfers", f"obj-{size}")
            grown = demo.memory_kib("VmHWM") - before
            print(f"{size} bytes: server peak RSS grew {grown} KiB during the upload")
            # Parts are streamed to disk: memory does not follow the size.
            assert grown < 30 * 1024, f"peak RSS grew {grown} KiB during a {size}-byte upload"
            head = client.head_object(Bucket="transfers", Key=f"obj-{size}")
            assert head["ContentLength"] == size
            parts = -(-size // (8 * MiB))
            assert head["ETag"].endswith(f'-{parts}"'), head["ETag"]
            source.unlink()

            target = tmp_path / f"down-{size}"
            before = demo.memory_kib("VmHWM")
            client.download_file("transfers", f"obj-{size}", str(target))
            grown = demo.memory_kib("VmHWM") - before
            print(f"{size} bytes: server peak RSS grew {grown} KiB during the download")
            assert grown < 30 * 1024
            assert target.stat().st_size == size
            assert md5_of_file(target) == expected
            target.unlink()


def test_default_root_directory_is_beside_the_demo(tmp_path: Path) -> None:
    import shutil

    from test_demo_harness import DEMOS

    copy = tmp_path / "s3server"
    copy.mkdir()
    shutil.copy(DEMOS / SCRIPT, copy)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    with running(str(copy / "s3server.py"), cwd=elsewhere) as demo:
        assert call(demo, "PUT", "/here")[0] == 200
    assert (copy / "s3data" / "here").is_dir()
    assert list(elsewhere.iterdir()) == []
