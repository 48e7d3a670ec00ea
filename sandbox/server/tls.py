"""A throwaway certificate authority and server certificate for the sandbox's HTTPS side.

simple-salesforce always builds ``https://`` URLs, so the Salesforce side must speak TLS; clients verify it
against the CA bundle written here (verification is never switched off).
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from pathlib import Path

import trustme

from sandbox.server.gateway import PUBLIC_HOSTS


@dataclass(frozen=True)
class SandboxTLS:
    ca_path: Path
    cert_chain_path: Path
    key_path: Path

    def server_context(self) -> ssl.SSLContext:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(str(self.cert_chain_path), str(self.key_path))
        return ctx


# The CRMs' public hostnames too, so connectors reaching the sandbox through its gateway verify TLS as usual.
DEFAULT_HOSTS = ("127.0.0.1", "localhost", *PUBLIC_HOSTS)


def issue_tls(directory: Path, hosts: tuple[str, ...] = DEFAULT_HOSTS) -> SandboxTLS:
    directory.mkdir(parents=True, exist_ok=True)
    ca = trustme.CA(organization_name="crm-loop sandbox CA")
    cert = ca.issue_cert(*hosts)
    ca_path = directory / "sandbox-ca.pem"
    chain_path = directory / "sandbox-server-chain.pem"
    key_path = directory / "sandbox-server-key.pem"
    ca.cert_pem.write_to_path(str(ca_path))
    chain_path.write_bytes(b"".join(blob.bytes() for blob in cert.cert_chain_pems))
    cert.private_key_pem.write_to_path(str(key_path))
    key_path.chmod(0o600)
    return SandboxTLS(ca_path=ca_path, cert_chain_path=chain_path, key_path=key_path)
