"""The yardstick of bench_throughput.py: a bare Flask + SQLAlchemy app, one route doing one
simple query on the portal's database, served by gunicorn with the portal's settings:

    DATABASE_URL=... gunicorn -c python:portal.gunicorn_conf --chdir tests/benchmarks bare_flask:app

The table is described on a MetaData of its own: the portal's settings import the portal
(its jobs, post_worker_init), whose models define "nation" on SQLModel's metadata, and a
second definition there stopped the workers from booting.
"""

import os

import sqlalchemy as sa
from flask import Flask

nation = sa.Table(
    "nation",
    sa.MetaData(),  # not the portal's: no portal code involved
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("slug", sa.String),
    sa.Column("name", sa.String),
)
engine = sa.create_engine(os.environ["DATABASE_URL"])
app = Flask(__name__)
app.config["REDIS_URL"] = "redis://not-used"  # the portal's jobs are no concern of this app


@app.get("/")
def one_nation() -> str:
    with engine.connect() as connection:
        query = sa.select(nation.c.name).where(nation.c.slug == "red-cedar")
        return f"<p>{connection.execute(query).scalar_one()}</p>"
