"""``flask vapi tools``: the tool definitions for ``model.tools`` as JSON on stdout."""

from __future__ import annotations

import json
import warnings
from typing import TYPE_CHECKING, Optional

import click
from flask import Flask

from ..errors import ConfigurationError
from ..locate import find_blueprint, webhook_path
from ..tooldefs import ToolDefinitionWarning, tool_definitions
from .common import webhook_url

if TYPE_CHECKING:
    from ..blueprint import VapiBlueprint


def public_webhook_url(app: Flask, name: str, server_url: Optional[str]) -> Optional[str]:
    """The webhook's public URL from ``--server-url`` or ``SERVER_NAME``, else ``None``."""
    if server_url is None:
        if not app.config.get("SERVER_NAME"):
            return None
        server_url = f"{app.config['PREFERRED_URL_SCHEME']}://{app.config['SERVER_NAME']}"
    return webhook_url(server_url, webhook_path(app, name), "'--server-url'")


def print_tools(app: Flask, blueprint: VapiBlueprint, server_url: Optional[str]) -> None:
    """``flask vapi tools``: the definitions as JSON on stdout, notes on stderr."""
    name, _ = find_blueprint(app, blueprint)
    url = public_webhook_url(app, name, server_url)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ToolDefinitionWarning)
            definitions = tool_definitions(blueprint, server_url=url)
    except (ConfigurationError, ImportError) as exc:
        raise click.ClickException(str(exc)) from None
    for warning in caught:
        if issubclass(warning.category, ToolDefinitionWarning):
            click.echo(f"Warning: {warning.message}", err=True)
        else:  # not ours: hand it back to the warnings machinery
            warnings.warn_explicit(
                warning.message, warning.category, warning.filename, warning.lineno
            )
    if not definitions:
        click.echo(f"Note: no tools are registered on the blueprint {name!r}.", err=True)
    elif url is None:
        click.echo(
            "Note: without --server-url or SERVER_NAME the tools have no server.url; Vapi "
            "then sends their tool-calls to the assistant's Server URL.",
            err=True,
        )
    click.echo(json.dumps(definitions, indent=2, ensure_ascii=False))
