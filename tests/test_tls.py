"""HTTPS: `orderlink serve --tls` with its own local CA or given files, and the plain-HTTP
refusal mode of a cloud portal (`_includes/system-errors.md`: 401 INVALID_REQUEST Https required)."""

from __future__ import annotations

import ssl
from pathlib import Path

import httpx
import pytest
from cryptography import x509

from orderlink import tls
from orderlink.settings import Settings

from .conftest import Portal
from .live import start_server


def test_local_ca_is_made_once_and_signs_a_leaf_for_every_host(tmp_path: Path) -> None:
    first = tls.ensure(tmp_path, ["orders.test"])
    ca_bytes = first.ca_file.read_bytes()
    second = tls.ensure(tmp_path, ["orders.test", "10.1.2.3"])
    assert second.ca_file.read_bytes() == ca_bytes
    leaf = x509.load_pem_x509_certificate(second.cert_file.read_bytes())
    san = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    names = {str(n) for n in san.get_values_for_type(x509.DNSName)}
    addresses = {str(a) for a in san.get_values_for_type(x509.IPAddress)}
    assert {"orders.test", "localhost"} <= names
    assert {"127.0.0.1", "::1", "10.1.2.3"} <= addresses
    assert oct(second.key_file.stat().st_mode & 0o777) == "0o600"


@pytest.mark.live
def test_serve_tls_answers_https_trusted_through_its_ca(tmp_path: Path) -> None:
    server = start_server(tmp_path / "tls.db", "--tls", "--no-rate-limit")
    try:
        assert server.webhook_url.startswith("https://127.0.0.1:")
        assert server.ca_file is not None
        assert any(f"export SSL_CERT_FILE={server.ca_file}" in line for line in server.output)
        # Debian's curl trusts CURL_CA_BUNDLE, not SSL_CERT_FILE (issue 12 point 17).
        assert any(
            f"export CURL_CA_BUNDLE={server.ca_file}" in line and "curl" in line
            for line in server.output
        )
        context = ssl.create_default_context(cafile=str(server.ca_file))
        for host in ("127.0.0.1", "localhost"):
            url = server.webhook_url.replace("127.0.0.1", host) + "crm.orderentity.getFields"
            response = httpx.post(url, json={}, verify=context)
            assert response.status_code == 200
        with pytest.raises(httpx.ConnectError):
            httpx.post(server.webhook_url + "crm.orderentity.getFields", json={})  # untrusted
    finally:
        server.stop()


@pytest.mark.live
def test_serve_tls_with_given_certificate(tmp_path: Path) -> None:
    own = tls.ensure(tmp_path / "own", ["127.0.0.1"])
    server = start_server(
        tmp_path / "own.db", "--tls-cert", str(own.cert_file), "--tls-key", str(own.key_file),
        ca_file=own.ca_file,
    )  # fmt: skip
    try:
        assert server.webhook_url.startswith("https://")
        context = ssl.create_default_context(cafile=str(own.ca_file))
        response = httpx.post(
            server.webhook_url + "crm.orderentity.getFields", json={}, verify=context
        )
        assert response.status_code == 200
    finally:
        server.stop()


@pytest.mark.anyio
class TestHttpsRequired:
    @pytest.fixture
    def settings(self, database_url: str) -> Settings:
        return Settings(database=database_url, rate_limit=False, require_https=True)

    async def test_plain_http_is_refused_like_a_cloud_portal(self, portal: Portal) -> None:
        response = await portal.call("crm.orderentity.getFields")
        assert response.status_code == 401
        assert response.json() == {
            "error": "INVALID_REQUEST",
            "error_description": "Https required",
        }

    async def test_https_is_served(self, portal: Portal) -> None:
        client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=portal.app), base_url="https://testserver"
        )
        async with client:
            response = await client.post(portal.hook + "crm.orderentity.getFields", json={})
        assert response.status_code == 200
