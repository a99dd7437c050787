"""HTML to PDF with WeasyPrint, fetching nothing but the portal's own static files.

A document may name a stylesheet or an image; anything else it names (a web
address, a file elsewhere on the server, a data: URL) is refused, so what ends up
in a PDF can never be read from outside the portal's static folder, nor make the
server call out. Fonts come from the system (DejaVu Sans on Debian) or, for the
agreements, from the static folder. Every PDF the portal makes fetches through here.
"""

import mimetypes
from pathlib import Path
from urllib.parse import unquote, urlsplit

from weasyprint import HTML
from weasyprint.urls import URLFetcher, URLFetcherResponse

STATIC_DIR = Path(__file__).resolve().parent / "static"


class RefusedURL(ValueError):
    """WeasyPrint asked for something other than the portal's own static files."""


class StaticFilesOnly(URLFetcher):
    """A WeasyPrint URL fetcher that serves files under ``root`` and refuses the rest."""

    def __init__(self, root: Path = STATIC_DIR) -> None:
        super().__init__(allowed_protocols={"file"}, allow_redirects=False)
        self.root = root.resolve()

    def static_file(self, url: str) -> Path | None:
        """The file ``url`` names, if it is one of ours; None otherwise."""
        parts = urlsplit(url)
        if parts.scheme != "file" or parts.netloc not in ("", "localhost"):
            return None
        path = Path(unquote(parts.path)).resolve()  # resolves "..", symbolic links
        if not path.is_relative_to(self.root) or not path.is_file():
            return None
        return path

    def fetch(self, url: str, headers=None) -> URLFetcherResponse:
        path = self.static_file(url)
        if path is None:
            raise RefusedURL(f"refused {url[:200]!r}: not one of the portal's static files")
        content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return URLFetcherResponse(url, path.read_bytes(), {"Content-Type": content_type})


def html_to_pdf(html: str) -> bytes:
    """Render ``html`` (its <title> and lang become the PDF's); relative links resolve
    against the static folder. Tagged, so screen readers follow headings and tables."""
    document = HTML(string=html, base_url=STATIC_DIR.as_uri() + "/", url_fetcher=StaticFilesOnly())
    return document.write_pdf(pdf_tags=True)
