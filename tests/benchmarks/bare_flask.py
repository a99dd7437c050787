"""The yardstick of bench_throughput.py: a bare Flask + SQLModel app, one route doing one
simple query on the portal's database, served by gunicorn with the portal's settings:

    DATABASE_URL=... gunicorn -c python:portal.gunicorn_conf --chdir tests/benchmarks bare_flask:app
"""

import os

from flask import Flask
from sqlmodel import Field, Session, SQLModel, create_engine, select


class Nation(SQLModel, table=True):
    """The portal's nation table, read as a bare app would: no portal code involved."""

    id: int | None = Field(default=None, primary_key=True)
    slug: str
    name: str


engine = create_engine(os.environ["DATABASE_URL"])
app = Flask(__name__)


@app.get("/")
def one_nation() -> str:
    with Session(engine) as session:
        nation = session.exec(select(Nation).where(Nation.slug == "red-cedar")).one()
        return f"<p>{nation.name}</p>"
