"""Files in an S3-compatible bucket (STORAGE_S3_BUCKET, portal/storage/s3.py), spoken to
over HTTP by boto3: moto's standalone server on a free port of this machine stands in
for AWS, MinIO or Ceph. An agreement issued with the bucket configured is an object of
it, its row without bytes, and is served from it; an object changed or deleted in the
bucket is refused; the same bytes are uploaded once; files already in the database are
still served from it; a backup holds the bucket's files and a restore puts them back."""

import hashlib
import socket
import tarfile
import uuid

import boto3
import pytest
from moto.server import ThreadedMotoServer
from sqlmodel import select
from test_backup import agreement_sha256, chain_head, manifest_of, signed_request
from test_storage import DATA, get, put

from portal import create_app, migrate
from portal.db import session_scope
from portal.errors import ServiceError
from portal.storage import service as storage
from portal.storage.models import StoredFile

from flows import PEOPLE, Flow
from helpers import module_database, race, sign_in, sqlite_pass_only

# The bucket's reads and writes are the same whatever database keeps the rows: run on
# the SQLite pass. The backup (pg_dump's snapshot) and the migration run on both.
the_bucket_alone = sqlite_pass_only("the bucket's reads and writes")

PREFIX = "portal/files/"
NO_BUCKET = {"STORAGE_S3_BUCKET": None, "STORAGE_S3_ENDPOINT_URL": None}


@pytest.fixture(scope="module")
def endpoint():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture(autouse=True)
def dummy_credentials(monkeypatch, tmp_path):
    """Credentials of no account, from the environment only (boto3's chain reads it
    first; no ~/.aws file, no instance metadata)."""
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


class Bucket:
    """A new bucket of the test server, versioned so that every upload is counted."""

    def __init__(self, endpoint: str) -> None:
        self.name = f"portal-{uuid.uuid4().hex[:12]}"
        self.client = boto3.client("s3", endpoint_url=endpoint)
        self.client.create_bucket(Bucket=self.name)
        self.client.put_bucket_versioning(
            Bucket=self.name, VersioningConfiguration={"Status": "Enabled"}
        )
        self.settings = {
            "STORAGE_S3_BUCKET": self.name,
            "STORAGE_S3_ENDPOINT_URL": endpoint,
            "STORAGE_S3_PREFIX": PREFIX,
        }

    def objects(self) -> dict[str, bytes]:
        """Every object, by its digest (its name less the prefix)."""
        listed = self.client.list_objects_v2(Bucket=self.name).get("Contents", [])
        return {
            item["Key"].removeprefix(PREFIX): self.read(item["Key"].removeprefix(PREFIX))
            for item in listed
        }

    def uploads(self) -> int:
        return len(self.client.list_object_versions(Bucket=self.name).get("Versions", []))

    def read(self, digest: str) -> bytes:
        return self.client.get_object(Bucket=self.name, Key=PREFIX + digest)["Body"].read()

    def write(self, digest: str, data: bytes) -> None:
        self.client.put_object(Bucket=self.name, Key=PREFIX + digest, Body=data)

    def delete(self, digest: str) -> None:  # every version: the object is gone
        for version in self.client.list_object_versions(Bucket=self.name)["Versions"]:
            if version["Key"] == PREFIX + digest:
                self.client.delete_object(
                    Bucket=self.name, Key=version["Key"], VersionId=version["VersionId"]
                )


@pytest.fixture
def bucket(endpoint) -> Bucket:
    return Bucket(endpoint)


def make_app(database_url: str, instance, settings: dict):
    return create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret-key",
            "DATABASE_URL": database_url,
            "INSTANCE_PATH": str(instance),
            "SESSION_COOKIE_SECURE": False,
            "MAIL_SEND_AFTER_REQUEST": False,
            **settings,
        }
    )


@pytest.fixture
def app(database_url, instance_path, bucket):
    """The portal with the bucket configured (every fixture built on ``app`` uses it)."""
    app = make_app(database_url, instance_path, bucket.settings)
    yield app
    app.extensions["portal.db"].dispose()


@pytest.fixture
def database_app(database_url, instance_path):
    """The same database and instance folder, without a bucket: files go into the rows."""
    app = make_app(database_url, instance_path, NO_BUCKET)
    yield app
    app.extensions["portal.db"].dispose()


def rows(app) -> dict[str, StoredFile]:
    with app.app_context(), session_scope() as session:
        found = session.exec(select(StoredFile)).all()
        for row in found:
            session.expunge(row)
        return {row.sha256: row for row in found}


def agreement_served(app, ref: str):
    client = app.test_client()
    sign_in(client, PEOPLE["researcher"][0])
    return client.get(f"/requests/{ref}/agreement.pdf")


@the_bucket_alone
def test_an_agreement_is_kept_in_the_bucket_and_served_from_it(app, flow, bucket):
    ref = signed_request(flow)
    digest = agreement_sha256(app, ref)
    kept = rows(app)
    assert digest in kept and len(kept) == 4  # as issued, and after each of three signatures
    assert all(row.data is None for row in kept.values())
    objects = bucket.objects()
    assert set(objects) == set(kept)
    for name, row in kept.items():
        assert hashlib.sha256(objects[name]).hexdigest() == name
        assert (row.media_type, row.size) == ("application/pdf", len(objects[name]))

    served = agreement_served(app, ref)
    assert served.status_code == 200
    assert served.data == objects[digest]


@the_bucket_alone
@pytest.mark.parametrize("damage", ["changed", "deleted"])
def test_an_object_changed_or_deleted_in_the_bucket_is_refused(app, flow, bucket, damage):
    ref = signed_request(flow)
    digest = agreement_sha256(app, ref)
    original = bucket.read(digest)
    if damage == "changed":
        changed = bytearray(original)
        changed[len(changed) // 2] ^= 0x01
        bucket.write(digest, bytes(changed))
        words = "was changed"
    else:
        bucket.delete(digest)
        words = "is missing"

    with pytest.raises(ServiceError, match=f"The stored file {digest} {words}"):
        get(app, digest)
    served = agreement_served(app, ref)
    assert served.status_code == 409
    assert not served.data.startswith(b"%PDF") and original not in served.data


@the_bucket_alone
def test_the_same_bytes_put_twice_upload_one_object(app, bucket):
    digest = put(app)
    assert put(app, DATA, "text/plain") == digest
    with app.app_context(), session_scope() as session:  # twice in one transaction too
        assert storage.put(session, DATA, "application/pdf") == digest
    assert bucket.uploads() == 1
    assert get(app, digest) == DATA

    # An upload whose transaction rolled back leaves an object and no row: harmless,
    # and the next put of those bytes finds it there and uploads nothing.
    other = DATA + b"% another\n"
    with pytest.raises(RuntimeError), app.app_context(), session_scope() as session:
        storage.put(session, other, "application/pdf")
        raise RuntimeError("the caller's transaction fails after the put")
    assert set(rows(app)) == {digest}
    assert bucket.uploads() == 2
    again = put(app, other)
    assert bucket.uploads() == 2
    assert get(app, again) == other

    third = DATA + b"% at once\n"
    assert race(lambda: put(app, third), lambda: put(app, third)) == [digest_of(third)] * 2
    assert len(rows(app)) == 3 and set(bucket.objects()) == set(rows(app))


def digest_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@the_bucket_alone
def test_a_bucket_that_is_not_there_stores_and_serves_nothing(
    app, bucket, database_url, instance_path
):
    missing = {**bucket.settings, "STORAGE_S3_BUCKET": "no-such-bucket"}
    elsewhere = make_app(database_url, instance_path, missing)
    try:
        with pytest.raises(ServiceError, match="could not be stored"):
            put(elsewhere)
        assert rows(elsewhere) == {}
        digest = put(app)  # in the bucket that is there
        with pytest.raises(ServiceError, match=f"The stored file {digest} could not be read"):
            get(elsewhere, digest)
    finally:
        elsewhere.extensions["portal.db"].dispose()


@the_bucket_alone
def test_files_in_the_database_are_still_served_with_the_bucket_on(app, database_app, flow, bucket):
    """Turning the bucket on moves nothing: what the rows hold is read from them."""
    ref = signed_request(Flow(database_app))
    digest = agreement_sha256(database_app, ref)
    in_rows = rows(database_app)
    assert in_rows and all(row.data is not None for row in in_rows.values())

    served = agreement_served(app, ref)  # the bucket configured
    assert served.status_code == 200
    assert digest_of(served.data) == digest
    assert bucket.objects() == {}
    assert put(app) not in in_rows and len(bucket.objects()) == 1  # new files: the bucket


@the_bucket_alone
def test_a_row_without_bytes_and_no_bucket_configured_is_refused(app, database_app):
    digest = put(app)
    with pytest.raises(ServiceError, match=f"The stored file {digest} is missing"):
        get(database_app, digest)


# --- backup and restore ---------------------------------------------------------------


@pytest.fixture
def backed_up(app, flow, bucket, tmp_path):
    """A signed agreement (four files in the bucket), backed up through `portal backup`."""
    ref = signed_request(flow)
    archive = tmp_path / "backups" / "portal.tar.gz"
    archive.parent.mkdir()
    result = app.test_cli_runner().invoke(args=["backup", str(archive)])
    assert result.exit_code == 0, result.output
    return ref, archive


def restored(fresh_database_url, tmp_path, settings: dict, archive):
    """A portal on a new database and instance folder, the backup restored into it."""
    instance = tmp_path / f"restored-{uuid.uuid4().hex[:6]}"
    instance.mkdir()
    app = make_app(fresh_database_url, instance, settings)
    result = app.test_cli_runner().invoke(args=["restore", str(archive)])
    assert result.exit_code == 0, result.output
    verify = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert verify.exit_code == 0, verify.output
    assert "chain intact" in verify.output
    return app


def test_a_backup_holds_the_bucket_s_files_and_restores_them_into_a_bucket(
    app, backed_up, bucket, endpoint, fresh_database_url, tmp_path
):
    ref, archive = backed_up
    objects = bucket.objects()
    members = manifest_of(archive)["members"]
    assert {n.removeprefix("stored/") for n in members if n.startswith("stored/")} == set(objects)
    with tarfile.open(archive, "r:gz") as tar:
        for digest, data in objects.items():
            assert tar.extractfile(f"stored/{digest}").read() == data

    new_bucket = Bucket(endpoint)  # the files come back into an empty bucket
    restored_app = restored(fresh_database_url, tmp_path, new_bucket.settings, archive)
    try:
        assert chain_head(restored_app) == chain_head(app)
        assert new_bucket.objects() == objects
        assert all(row.data is None for row in rows(restored_app).values())
        assert_serves_the_agreement(restored_app, app, ref)
    finally:
        restored_app.extensions["portal.db"].dispose()


@the_bucket_alone
def test_without_a_bucket_a_restore_puts_the_files_into_their_rows(
    app, backed_up, bucket, fresh_database_url, tmp_path
):
    ref, archive = backed_up
    objects = bucket.objects()
    restored_app = restored(fresh_database_url, tmp_path, NO_BUCKET, archive)
    try:
        assert {name: bytes(row.data) for name, row in rows(restored_app).items()} == objects
        assert_serves_the_agreement(restored_app, app, ref)
    finally:
        restored_app.extensions["portal.db"].dispose()


@the_bucket_alone
def test_a_backup_refuses_when_the_bucket_lacks_a_file_or_is_not_configured(
    app, database_app, flow, bucket, tmp_path
):
    ref = signed_request(flow)
    archive = tmp_path / "portal.tar.gz"
    unconfigured = database_app.test_cli_runner().invoke(args=["backup", str(archive)])
    assert unconfigured.exit_code == 1
    assert "stored files are in an S3-compatible bucket" in unconfigured.output

    digest = agreement_sha256(app, ref)
    bucket.delete(digest)
    result = app.test_cli_runner().invoke(args=["backup", str(archive)])
    assert result.exit_code == 1
    assert f"the stored file {digest} is missing from the bucket" in result.output
    assert list(tmp_path.glob("*portal.tar.gz*")) == []  # nothing written


# --- migration 0025 -------------------------------------------------------------------


@pytest.fixture
def own_database_url(migrated_template, tmp_path):
    """A database of this test's own: it is migrated down and up again."""
    with module_database(migrated_template, tmp_path) as url:
        yield url


def test_the_downgrade_copies_the_bucket_s_files_back_into_their_rows(
    own_database_url, instance_path, bucket, monkeypatch
):
    for name in bucket.settings:
        monkeypatch.delenv(name, raising=False)
    app = make_app(own_database_url, instance_path, bucket.settings)
    in_bucket = put(app)
    app.extensions["portal.db"].dispose()
    database_app = make_app(own_database_url, instance_path, NO_BUCKET)
    in_row = put(database_app, b"kept in the database")
    database_app.extensions["portal.db"].dispose()

    with pytest.raises(RuntimeError, match="1 stored files are in an S3-compatible bucket"):
        migrate.downgrade(own_database_url, "0024")  # no bucket in the environment
    for name, value in bucket.settings.items():
        monkeypatch.setenv(name, value)
    migrate.downgrade(own_database_url, "0024")
    assert {name: bytes(row.data) for name, row in rows(app).items()} == {
        in_bucket: DATA,
        in_row: b"kept in the database",
    }
    migrate.upgrade(own_database_url)
    app.extensions["portal.db"].dispose()


def assert_serves_the_agreement(restored_app, app, ref: str) -> None:
    """The restored portal serves the agreement the backed-up one held."""
    served = agreement_served(restored_app, ref)
    assert served.status_code == 200
    assert digest_of(served.data) == agreement_sha256(app, ref)
