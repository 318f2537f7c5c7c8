"""The transport every HTTP client of llmorch uses: plain http skips loading certificates (a local
model server), https is still verified against them."""

from __future__ import annotations

import ssl
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx2
import pytest

from llmorch.lazy_tls import LazyTlsTransport


class _Hello(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", "5")
        self.end_headers()
        self.wfile.write(b"hello")

    def log_message(self, format: str, *args: object) -> None:
        return


@pytest.fixture
def servers(tmp_path: Path) -> Iterator[tuple[str, str]]:
    """(http URL, https URL with a self-signed certificate), both on 127.0.0.1."""
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    plain = ThreadingHTTPServer(("127.0.0.1", 0), _Hello)
    tls = ThreadingHTTPServer(("127.0.0.1", 0), _Hello)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    tls.socket = context.wrap_socket(tls.socket, server_side=True)
    for server in (plain, tls):
        threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield (
            f"http://127.0.0.1:{plain.server_address[1]}/",
            f"https://127.0.0.1:{tls.server_address[1]}/",
        )
    finally:
        for server in (plain, tls):
            server.shutdown()
            server.server_close()


async def test_plain_http_answers_and_https_is_still_verified(servers: tuple[str, str]) -> None:
    http_url, https_url = servers
    client = httpx2.AsyncClient(transport=LazyTlsTransport())
    try:
        assert (await client.get(http_url)).text == "hello"
        # A self-signed certificate is refused: https did not lose its verification.
        with pytest.raises(httpx2.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
            await client.get(https_url)
    finally:
        await client.aclose()
