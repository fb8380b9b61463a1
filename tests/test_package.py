"""The package itself: version, lazy submodules, and import hygiene."""

import subprocess
import sys
import textwrap

import tornado


def test_version_is_the_api_level() -> None:
    assert tornado.version_info[:2] == (6, 6)
    assert tornado.version.startswith("6.6.")


def _run(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True
    )


def test_submodules_load_lazily() -> None:
    proc = _run(
        """
        import sys, tornado
        assert "tornado.util" not in sys.modules
        tornado.util.Configurable
        assert "tornado.util" in sys.modules
        """
    )
    assert proc.returncode == 0, proc.stderr


def test_unknown_attribute_raises() -> None:
    proc = _run(
        """
        import tornado
        try:
            tornado.no_such_module
        except AttributeError as e:
            assert "no_such_module" in str(e)
        else:
            raise SystemExit("no AttributeError")
        """
    )
    assert proc.returncode == 0, proc.stderr


def test_https_test_case_default_certificate_is_shipped() -> None:
    import os
    import ssl

    from tornado.testing import AsyncHTTPSTestCase

    options = AsyncHTTPSTestCase.default_ssl_options()
    assert os.path.exists(options["certfile"]) and os.path.exists(options["keyfile"])
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(options["certfile"], options["keyfile"])
