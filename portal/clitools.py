"""What every command of the ``portal`` command line shares: exit 1 with one line on
stderr for a refused operation, and options that take several values."""

import functools
from collections.abc import Callable

import click
import sqlalchemy.exc

from portal.errors import ServiceError


def reports_failures(command: Callable) -> Callable:
    """Turn a refused operation into exit 1 and one line on stderr."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except ServiceError as error:
            raise click.ClickException(error.message) from None
        except sqlalchemy.exc.SQLAlchemyError as error:
            reason = str(error.orig if getattr(error, "orig", None) else error).splitlines()[0]
            raise click.ClickException(f"database error: {reason}") from None

    return wrapper


class GreedyOption(click.Option):
    """An option that takes every value up to the next option: ``--residency CA CA-ON``.
    Repeating it (``--residency CA --residency CA-ON``) works too."""

    def add_to_parser(self, parser, ctx):
        super().add_to_parser(parser, ctx)
        parser_option = parser._long_opt.get(self.opts[0])  # click keeps no public hook for this
        original = parser_option.process

        def process(value, state):
            values = [value]
            while state.rargs and not state.rargs[0].startswith("-"):
                values.append(state.rargs.pop(0))
            for each in values:
                original(each, state)

        parser_option.process = process
