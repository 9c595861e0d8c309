"""The call inspector: the event log as pages under ``{url_prefix}/inspector/``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import Blueprint

if TYPE_CHECKING:
    from ..blueprint import VapiBlueprint

__all__ = ["inspector_blueprint"]


def inspector_blueprint(vapi: VapiBlueprint) -> Blueprint:
    """The inspector of ``vapi``'s endpoint, a blueprint nested in it (``vapi.inspector.*``)."""
    from .views import add_views

    inspector = Blueprint(
        "inspector",
        __name__,
        url_prefix="/inspector",
        template_folder="templates",
        static_folder="static",
        static_url_path="/static",
    )
    add_views(inspector, vapi)
    return inspector
