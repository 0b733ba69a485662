"""Flask-Migrate, loaded the first time it is needed.

Flask-Migrate imports Alembic (and with it Mako and Pygments) as soon as it is imported:
some 11 MB in every process, of which a web or background worker never uses a byte.
:class:`LazyMigrate` stands in for ``flask_migrate.Migrate``: ``flask db …`` and
``flask_migrate.upgrade()`` (tests, benchmarks) work as before, and load the real thing
on their first use.
"""

from __future__ import annotations

import click
from flask import Flask, g
from flask.cli import with_appcontext


class LazyMigrate:
    """``Migrate(**options)`` bound to the app only when the migrations are asked for."""

    def __init__(self, **options) -> None:
        self.options = options

    def init_app(self, app: Flask, db, directory: str) -> None:
        app.extensions["migrate"] = _Deferred(app, db, directory, self.options)
        app.cli.add_command(_DatabaseCommands(name="db"))


class _Deferred:
    """``app.extensions["migrate"]`` until first read: then Flask-Migrate's own."""

    def __init__(self, app: Flask, db, directory: str, options: dict) -> None:
        self._args = (app, db, directory, options)

    def __getattr__(self, name: str):
        from flask_migrate import Migrate

        app, db, directory, options = self._args
        real = app.extensions["migrate"]
        if real is self:
            Migrate(**options).init_app(app, db, directory=directory)
            real = app.extensions["migrate"]
        return getattr(real, name)


@with_appcontext
def _remember_options(directory, x_arg) -> None:
    g.directory = directory
    g.x_arg = x_arg  # read by Migrate.get_config(), as Flask-Migrate's own group does


class _DatabaseCommands(click.Group):
    """``flask db …``: Flask-Migrate's commands, imported when one is asked for."""

    def __init__(self, name: str) -> None:
        super().__init__(
            name=name,
            help="Perform database migrations.",
            callback=_remember_options,
            params=[
                click.Option(
                    ["-d", "--directory"],
                    default=None,
                    help='Migration script directory (default is "migrations")',
                ),
                click.Option(
                    ["-x", "--x-arg"],
                    multiple=True,
                    help="Additional arguments consumed by custom env.py scripts",
                ),
            ],
        )

    @staticmethod
    def _commands() -> click.Group:
        from flask_migrate.cli import db

        return db

    def list_commands(self, ctx: click.Context) -> list[str]:
        return self._commands().list_commands(ctx)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        return self._commands().get_command(ctx, name)
