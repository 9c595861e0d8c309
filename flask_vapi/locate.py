"""Finding a registered :class:`~flask_vapi.VapiBlueprint` and the path of its webhook."""

from __future__ import annotations

from typing import TYPE_CHECKING, Union, cast

from flask import Flask, request, url_for

from .dispatch import Dispatcher

if TYPE_CHECKING:
    from .blueprint import VapiBlueprint

#: A blueprint as the helpers accept it: its registered name, the object, or ``None`` for
#: the only :class:`~flask_vapi.VapiBlueprint` registered on the app.
BlueprintRef = Union[str, "VapiBlueprint", None]


def find_blueprint(app: Flask, blueprint: BlueprintRef = None) -> tuple[str, VapiBlueprint]:
    """The registered name and the object of a :class:`~flask_vapi.VapiBlueprint` of ``app``.

    Without ``blueprint`` the app must have exactly one.  Raises ``LookupError``.
    """
    # A VapiBlueprint is known by its dispatcher: this module does not import blueprint.py
    # (which imports the CLI, which imports this module).
    found = [
        (name, cast("VapiBlueprint", bp))
        for name, bp in app.blueprints.items()
        if isinstance(getattr(bp, "dispatcher", None), Dispatcher)
    ]
    if blueprint is None:
        if len(found) == 1:
            return found[0]
        if not found:
            raise LookupError(f"No VapiBlueprint is registered on the app {app.name!r}.")
        names = ", ".join(repr(name) for name, _ in found)
        raise LookupError(f"Several VapiBlueprints are registered ({names}): pass blueprint=.")
    for name, bp in found:
        if blueprint is bp or blueprint == name:
            return name, bp
    raise LookupError(f"No VapiBlueprint {blueprint!r} is registered on the app {app.name!r}.")


def webhook_path(app: Flask, name: str, *, full: bool = True) -> str:
    """The path of the webhook of the VapiBlueprint registered as ``name`` (``url_for``).

    ``full=False`` leaves out the app's root (``APPLICATION_ROOT``), as Flask's test
    client wants paths.
    """
    with app.test_request_context():
        path = url_for(f"{name}.webhook")
        return path if full else path[len(request.script_root) :]
