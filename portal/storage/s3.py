"""An S3-compatible object store for the portal's files, when STORAGE_S3_BUCKET is set.

Each file is one object, ``<STORAGE_S3_PREFIX><sha256>``; ``service.py`` keeps its row
(digest, media type, size) in ``stored_file`` and checks every read against the digest.
boto3 does the talking and the signing (``pip install 'stewardship-portal[s3]'``); it
finds credentials where AWS tools do (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY,
~/.aws, an instance role), never in the portal's settings. STORAGE_S3_ENDPOINT_URL
points it at another S3-compatible server (MinIO, Ceph), addressed by path, as such
servers expect.
"""

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass


@dataclass(frozen=True)
class S3Settings:
    bucket: str
    prefix: str = ""
    endpoint_url: str | None = None
    region: str | None = None  # None: the AWS chain's (AWS_REGION, ~/.aws/config)


def settings_from(config: Mapping) -> S3Settings | None:
    """The store the app is configured with; None: files go into the database."""
    bucket = config.get("STORAGE_S3_BUCKET")
    if not bucket:
        return None
    return S3Settings(
        bucket=bucket,
        prefix=config.get("STORAGE_S3_PREFIX") or "",
        endpoint_url=config.get("STORAGE_S3_ENDPOINT_URL") or None,
        region=config.get("STORAGE_S3_REGION") or None,
    )


def check_installed() -> None:
    """Raise RuntimeError unless boto3 can be imported (create_app asks, when a bucket is set)."""
    try:
        import boto3  # noqa: F401
    except ImportError:
        raise RuntimeError(
            "STORAGE_S3_BUCKET is set but boto3 is not installed: "
            "pip install 'stewardship-portal[s3]'"
        ) from None


class StoreError(Exception):
    """The store did not answer as it should (unreachable, access refused, ...)."""


class ObjectStore:
    """One bucket (and prefix). Its boto3 client is thread-safe: one per app is enough."""

    def __init__(self, settings: S3Settings) -> None:
        import boto3
        from botocore.config import Config

        self.settings = settings
        addressing = {"s3": {"addressing_style": "path"}} if settings.endpoint_url else {}
        self._client = boto3.session.Session().client(
            "s3",
            endpoint_url=settings.endpoint_url,
            region_name=settings.region,
            config=Config(**addressing),
        )

    def key(self, digest: str) -> str:
        return f"{self.settings.prefix}{digest}"

    def exists(self, digest: str) -> bool:
        with self._answer(digest):
            self._client.head_object(Bucket=self.settings.bucket, Key=self.key(digest))
            return True
        return False

    def write(self, digest: str, data: bytes, media_type: str) -> None:
        """Upload ``data`` under ``digest``, unless an object is there already: the same
        digest names the same bytes (``service.get`` checks them on every read)."""
        if self.exists(digest):
            return
        with self._answer(digest, absent_ok=False):  # a missing bucket is a failure
            self._client.put_object(
                Bucket=self.settings.bucket, Key=self.key(digest), Body=data, ContentType=media_type
            )

    def read(self, digest: str) -> bytes | None:
        """The object's bytes, unchecked; None if there is no such object."""
        with self._answer(digest):
            answer = self._client.get_object(Bucket=self.settings.bucket, Key=self.key(digest))
            with answer["Body"] as body:
                return body.read()
        return None

    @contextmanager
    def _answer(self, digest: str, absent_ok: bool = True) -> Iterator[None]:
        """No such object (when ``absent_ok``): the block ends quietly and its caller goes
        on after it; any other failure of boto3 raises StoreError."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            yield
        except ClientError as error:
            # HEAD answers a bare 404; GET says NoSuchKey (NoSuchBucket is a failure).
            code = error.response.get("Error", {}).get("Code")
            if code not in ("404", "NoSuchKey", "NotFound") or not absent_ok:
                raise StoreError(f"{self.key(digest)}: {error}") from error
        except BotoCoreError as error:
            raise StoreError(f"{self.key(digest)}: {error}") from error
