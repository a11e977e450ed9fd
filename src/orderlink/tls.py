"""HTTPS for `orderlink serve --tls`: a local certificate authority made once, and a server
certificate it signs for the names the server answers to.

Several clients only ever build `https://` URLs (b24pysdk, b24jssdk's webhook client), so a
local portal must speak TLS that those clients can be told to trust: point `REQUESTS_CA_BUNDLE`,
`SSL_CERT_FILE`, `NODE_EXTRA_CA_CERTS` or (curl) `CURL_CA_BUNDLE` at the CA file. Keys never leave
the TLS directory.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

CA_FILE = "orderlink-ca.pem"
CA_KEY_FILE = "orderlink-ca.key"
CERT_FILE = "server.pem"
KEY_FILE = "server.key"
# A leaf certificate is re-issued when it names other hosts or expires within this many days.
RENEW_DAYS = 30
# Where the proxy's certificates for intercepted hosts live, one pair per host (proxy.py).
HOSTS_DIR = "hosts"


@dataclass(frozen=True, slots=True)
class Certificates:
    ca_file: Path
    cert_file: Path
    key_file: Path


def tls_dir_for(database: str) -> Path:
    """Beside the SQLite file (`./orderlink.db` -> `./orderlink-tls/`), else the working dir."""
    if database.startswith("sqlite:///") and database[len("sqlite:///") :] not in ("", ":memory:"):
        return Path(database[len("sqlite:///") :]).resolve().parent / "orderlink-tls"
    return Path("orderlink-tls").resolve()


def ensure(
    directory: Path, hosts: Iterable[str], *, now: dt.datetime | None = None
) -> Certificates:
    """The CA (created on first use) and a server certificate valid for `hosts`."""
    now = now or dt.datetime.now(dt.UTC)
    directory.mkdir(parents=True, exist_ok=True)
    os.chmod(directory, 0o700)
    ca_cert, ca_key = _ca(directory, now)
    names = sorted({h.strip("[]") for h in hosts if h} | {"localhost", "127.0.0.1", "::1"})
    cert_path, key_path = directory / CERT_FILE, directory / KEY_FILE
    if not _leaf_is_current(cert_path, key_path, names, now):
        _issue_leaf(ca_cert, ca_key, names, cert_path, key_path, now)
    return Certificates(directory / CA_FILE, cert_path, key_path)


def ensure_ca(directory: Path, *, now: dt.datetime | None = None) -> Path:
    """The CA file (created on first use): what `orderlink ca path` prints and clients trust."""
    directory.mkdir(parents=True, exist_ok=True)
    os.chmod(directory, 0o700)
    _ca(directory, now or dt.datetime.now(dt.UTC))
    return directory / CA_FILE


def host_certificate(
    directory: Path, host: str, *, now: dt.datetime | None = None
) -> tuple[Path, Path]:
    """(certificate, key) for one host the proxy answers for, issued by the local CA when
    missing or near its end. `host` is a bare host name (hosts.py); files are written whole
    (a temporary name, then renamed), so two connections issuing at once never mix halves."""
    now = now or dt.datetime.now(dt.UTC)
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    ca_cert, ca_key = _ca(directory, now)
    folder = directory / HOSTS_DIR
    folder.mkdir(mode=0o700, exist_ok=True)
    cert_path, key_path = folder / f"{host}.pem", folder / f"{host}.key"
    if not _leaf_is_current(cert_path, key_path, [host], now):
        spare = f".{os.getpid()}.{secrets.token_hex(4)}"
        cert_tmp, key_tmp = folder / (host + spare + ".pem"), folder / (host + spare + ".key")
        _issue_leaf(ca_cert, ca_key, [host], cert_tmp, key_tmp, now)
        key_tmp.replace(key_path)
        cert_tmp.replace(cert_path)
    return cert_path, key_path


def _ca(directory: Path, now: dt.datetime) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    cert_path, key_path = directory / CA_FILE, directory / CA_KEY_FILE
    if cert_path.exists() and key_path.exists():
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
        key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
        if isinstance(key, ec.EllipticCurvePrivateKey) and cert.not_valid_after_utc > now:
            return cert, key
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "orderlink"),
            x509.NameAttribute(NameOID.COMMON_NAME, "orderlink local CA"),
        ]
    )
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_cert_sign=True,
                crl_sign=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    _write_private(key_path, key)
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return cert, key


def _leaf_is_current(cert_path: Path, key_path: Path, names: list[str], now: dt.datetime) -> bool:
    if not (cert_path.exists() and key_path.exists()):
        return False
    cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    if cert.not_valid_after_utc - now < dt.timedelta(days=RENEW_DAYS):
        return False
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return False
    present = {str(v) for v in san.get_values_for_type(x509.DNSName)} | {
        str(v) for v in san.get_values_for_type(x509.IPAddress)
    }
    return set(names) <= present


def _issue_leaf(
    ca_cert: x509.Certificate,
    ca_key: ec.EllipticCurvePrivateKey,
    names: list[str],
    cert_path: Path,
    key_path: Path,
    now: dt.datetime,
) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    alt_names: list[x509.GeneralName] = []
    for name in names:
        try:
            alt_names.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            alt_names.append(x509.DNSName(name))
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=397))
        .add_extension(x509.SubjectAlternativeName(alt_names), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    _write_private(key_path, key)
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))


def _write_private(path: Path, key: ec.EllipticCurvePrivateKey) -> None:
    data = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
