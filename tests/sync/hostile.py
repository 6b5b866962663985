"""Hostile or broken "hubs" on real loopback sockets, for the client's field-safety tests: a
tiny threaded server that answers each connection with a handler (plain or TLS), the
handlers (a health answer, a gzip bomb, a drip), test certificates, and a fake network map
(names to addresses, public addresses routed to loopback or refused) over the socket module."""

from __future__ import annotations

import datetime as dt
import gzip
import ipaddress
import json
import socket
import ssl
import struct
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

PUBLIC_IP = "203.0.113.10"  # TEST-NET-3: public by every rule, routed nowhere
Handler = Callable[[socket.socket, "Server"], None]
IO_TIMEOUT = 30.0  # no server socket waits longer than this for a client


# -- the server --------------------------------------------------------------------------------
@dataclass
class Server:
    """Answers every connection on 127.0.0.1:`port` with `handler`, after reading the request
    head (kept in `heads`). `stopping` is set when the test is done: handlers that drip
    stop at once."""

    handler: Handler
    tls: ssl.SSLContext | None = None
    heads: list[bytes] = field(default_factory=list)
    stopping: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.2)  # to look at `stopping` now and then
        self.port: int = self._listener.getsockname()[1]
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def url(self, scheme: str = "http", host: str = "127.0.0.1") -> str:
        return f"{scheme}://{host}:{self.port}"

    def stop(self) -> None:
        self.stopping.set()
        self._thread.join(IO_TIMEOUT)
        self._listener.close()

    def _accept(self) -> None:
        while not self.stopping.is_set():
            try:
                conn, _peer = self._listener.accept()
            except TimeoutError:
                continue
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        conn.settimeout(IO_TIMEOUT)
        channel = conn
        try:
            if self.tls:  # the handshake, once the client has sent its hello
                channel = self.tls.wrap_socket(conn, server_side=True)
            self.heads.append(read_head(channel))
            self.handler(channel, self)
        except OSError:  # ssl.SSLError is one too: the client gave up, as it should
            pass
        finally:
            channel.close()
            conn.close()


@contextmanager
def serving(handler: Handler, tls: ssl.SSLContext | None = None) -> Iterator[Server]:
    server = Server(handler, tls)
    try:
        yield server
    finally:
        server.stop()


def read_head(conn: socket.socket) -> bytes:
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = conn.recv(4096)
        if not chunk:
            break
        head += chunk
    return head


def response_head(length: int, *extra: str) -> bytes:
    lines = ["HTTP/1.1 200 OK", "Content-Type: application/json",
             f"Content-Length: {length}", "Connection: close", *extra]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


# -- handlers ----------------------------------------------------------------------------------
HEALTH = json.dumps({"ok": True, "version": 1}).encode()


def healthy(conn: socket.socket, server: Server) -> None:
    conn.sendall(response_head(len(HEALTH)) + HEALTH)


def sends_gzip(body: bytes) -> Handler:
    """Answers `body` (already gzip-compressed) as a gzip-encoded 200."""

    def handle(conn: socket.socket, server: Server) -> None:
        conn.sendall(response_head(len(body), "Content-Encoding: gzip") + body)

    return handle


def sends_plain(body: bytes) -> Handler:
    def handle(conn: socket.socket, server: Server) -> None:
        conn.sendall(response_head(len(body)) + body)

    return handle


def drips(every: float, head_too: bool) -> Handler:
    """One byte every `every` seconds: the head first (or the head at once and then the
    body) of an answer that would take minutes, each byte well within any read timeout."""
    body = b" " * 2000 + HEALTH

    def handle(conn: socket.socket, server: Server) -> None:
        head = response_head(len(body))
        if not head_too:
            conn.sendall(head)
        for byte in (head + body if head_too else body):
            if server.stopping.wait(every):
                return
            conn.sendall(bytes([byte]))

    return handle


def gzip_bomb(expanded: int) -> bytes:
    """A valid gzip stream of about a thousandth of `expanded` bytes that inflates to `expanded`
    bytes of JSON whitespace after an opening brace. One MiB of spaces is deflated once, with
    a full flush (so it refers to nothing before it), and that segment is repeated."""
    block = b" " * (1 << 20)
    opening = b'{"records": ['
    count = expanded // len(block)
    deflate = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS, 9, zlib.Z_RLE)
    first = deflate.compress(opening) + deflate.flush(zlib.Z_FULL_FLUSH)
    segment = deflate.compress(block) + deflate.flush(zlib.Z_FULL_FLUSH)
    last = deflate.flush(zlib.Z_FINISH)
    checksum = zlib.crc32(opening)
    for _ in range(count):
        checksum = zlib.crc32(block, checksum)
    size = len(opening) + count * len(block)
    header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"  # gzip, deflate, no name, no time
    trailer = struct.pack("<II", checksum, size % 2**32)
    return header + first + segment * count + last + trailer


def gzip_json(payload: Any) -> bytes:
    return gzip.compress(json.dumps(payload).encode())


# -- certificates ------------------------------------------------------------------------------
@dataclass
class Issued:
    cert: x509.Certificate
    key: ec.EllipticCurvePrivateKey

    def write(self, folder: Path, name: str) -> tuple[Path, Path]:
        cert_path, key_path = folder / f"{name}.pem", folder / f"{name}.key"
        cert_path.write_bytes(self.cert.public_bytes(serialization.Encoding.PEM))
        key_path.write_bytes(self.key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption()))
        return cert_path, key_path


def issue(name: str, *, names: list[str], by: Issued | None = None, ca: bool = False,
          valid_days: tuple[int, int] = (-1, 30)) -> Issued:
    """A certificate for `names` (DNS names or IP addresses), signed by `by` (or by itself),
    valid from/to these days around today."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.UTC)
    builder = (x509.CertificateBuilder()
               .subject_name(subject)
               .issuer_name(by.cert.subject if by else subject)
               .public_key(key.public_key())
               .serial_number(x509.random_serial_number())
               .not_valid_before(now + dt.timedelta(days=valid_days[0]))
               .not_valid_after(now + dt.timedelta(days=valid_days[1]))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if names:
        builder = builder.add_extension(x509.SubjectAlternativeName(
            [_general_name(n) for n in names]), critical=False)
    if ca:
        builder = builder.add_extension(x509.KeyUsage(
            digital_signature=True, key_cert_sign=True, crl_sign=True, content_commitment=False,
            key_encipherment=False, data_encipherment=False, key_agreement=False,
            encipher_only=False, decipher_only=False), critical=True)
    cert = builder.sign(by.key if by else key, hashes.SHA256())
    return Issued(cert, key)


def _general_name(name: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(name))
    except ValueError:
        return x509.DNSName(name)


def tls_context(issued: Issued, folder: Path, name: str) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*issued.write(folder, name))
    return context


# -- a fake network map ------------------------------------------------------------------------
@dataclass
class Network:
    """Over socket.getaddrinfo and socket.create_connection: `names` answers chosen names
    (a list of addresses per lookup, the last one repeated), `routes` sends connections for
    an address to 127.0.0.1 instead; any other public address is refused at once (nothing
    leaves the machine). `dialed` lists every address a connection was opened to."""

    names: dict[str, list[list[str]]] = field(default_factory=dict)
    routes: set[str] = field(default_factory=set)
    dialed: list[str] = field(default_factory=list)
    lookups: list[str] = field(default_factory=list)

    def install(self, monkeypatch: Any) -> Network:
        real_lookup, real_connect = socket.getaddrinfo, socket.create_connection

        def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
            if host not in self.names:
                return real_lookup(host, port, *args, **kwargs)
            self.lookups.append(host)
            answers = self.names[host]
            addresses = answers.pop(0) if len(answers) > 1 else answers[0]
            return [_address_info(address, int(port)) for address in addresses]

        def create_connection(address: tuple[str, int], *args: Any, **kwargs: Any) -> Any:
            host, port = address[0], address[1]
            if not _is_ip(host):  # a name: connect to what the (fake) resolver says
                first = getaddrinfo(host, port, 0, socket.SOCK_STREAM)[0][4][0]
                return create_connection((first, port), *args, **kwargs)
            self.dialed.append(host)
            if host in self.routes:
                return real_connect(("127.0.0.1", port), *args, **kwargs)
            if not ipaddress.ip_address(host.split("%")[0]).is_loopback:
                raise ConnectionRefusedError(f"test network: {host} is not reachable")
            return real_connect(address, *args, **kwargs)

        monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
        monkeypatch.setattr(socket, "create_connection", create_connection)
        return self


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text.split("%")[0])
    except ValueError:
        return False
    return True


def _address_info(address: str, port: int) -> tuple[Any, ...]:
    if ":" in address:
        return (socket.AF_INET6, socket.SOCK_STREAM, 6, "", (address, port, 0, 0))
    return (socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))


def wait_for(condition: Callable[[], bool], seconds: float = IO_TIMEOUT) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.02)
    return condition()
