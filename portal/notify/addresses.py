"""Where custodians' notices may go: public addresses only. Otherwise an administrator
could point a dataset's notices at the portal's own machine or network (a cloud's
metadata at 169.254.169.254) and read the answers in the delivery log, which the
coordinators and Nations see (found in a probe). The setting
CUSTODIAN_WEBHOOKS_ALLOW_PRIVATE_ADDRESSES lifts this for tests and demos.

Checked on the address as written when an endpoint is registered (custodians.check_url),
and on every address its name resolves to when a notice is sent: the connection goes to
the address checked, so the name cannot point elsewhere in between."""

import http.client
import ipaddress
import socket
import urllib.request

LOCAL_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"})
REFUSED = "is on this machine or a private network"


class PrivateAddress(OSError):
    """A notice's endpoint resolves to an address notices never go to."""


def is_private_address(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Anything but a public address: private, loopback, link-local, reserved, multicast,
    unspecified, or otherwise not global (100.64/10, documentation ranges)."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return not address.is_global or any(
        (
            address.is_private,
            address.is_loopback,
            address.is_link_local,
            address.is_reserved,
            address.is_multicast,
            address.is_unspecified,
        )
    )


def is_private_host(host: str) -> bool:
    """A name for this machine, or a literal address that is not public. Other names are
    judged when a notice is sent, on what they resolve to then."""
    name = host.rstrip(".").lower()
    if name in LOCAL_NAMES or name.endswith(".localhost"):
        return True
    try:
        return is_private_address(ipaddress.ip_address(name))
    except ValueError:
        return False


def connect_public(address: tuple[str, int], timeout=None, source_address=None) -> socket.socket:
    """socket.create_connection, refusing (PrivateAddress) a name that resolves to any
    address that is not public, and connecting to an address it checked."""
    host, port = address
    found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    resolved = [info[4][0] for info in found]
    if any(is_private_address(ipaddress.ip_address(ip.split("%")[0])) for ip in resolved):
        raise PrivateAddress(f"the endpoint {host} {REFUSED}")
    error: OSError | None = None
    for ip in dict.fromkeys(resolved):
        try:
            return socket.create_connection((ip, port), timeout, source_address)
        except OSError as failed:
            error = failed
    raise error or OSError(f"{host} resolves to no address")


class _HTTPConnection(http.client.HTTPConnection):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._create_connection = connect_public


class _HTTPSConnection(http.client.HTTPSConnection):
    # The certificate is still checked against the name (server_hostname is the host).
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._create_connection = connect_public


class _HTTPHandler(urllib.request.HTTPHandler):
    def http_open(self, req):
        return self.do_open(_HTTPConnection, req)


class _HTTPSHandler(urllib.request.HTTPSHandler):
    def https_open(self, req):
        return self.do_open(_HTTPSConnection, req, context=self._context)


def public_only(*handlers: urllib.request.BaseHandler) -> urllib.request.OpenerDirector:
    """An opener (with ``handlers``) that connects to public addresses only."""
    return urllib.request.build_opener(_HTTPHandler, _HTTPSHandler, *handlers)
