"""Backup and restore: ``portal backup FILE`` and ``portal restore FILE``.

A backup is one gzip-compressed tar file, written 0600 (it holds the CA key):

    manifest.json          what the rest is (archive.py), with a SHA-256 of every member
    database/portal.sqlite3  SQLite, copied with the online backup API, or
    database/portal.dump     PostgreSQL, ``pg_dump --format=custom --no-owner``
    instance/...           every file the portal keeps in its instance folder (the CA,
                           the secret key), but agreements: the database holds those
    stored/<sha256>        each stored file whose bytes are in the S3-compatible bucket
                           (STORAGE_S3_BUCKET), not in its row of the database

``service`` does the work; ``cli`` only maps it onto the command line.
"""
