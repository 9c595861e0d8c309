"""Every webhook property on both JSON backends, a few hundred examples each (profile "fuzz")."""

from __future__ import annotations

import pytest
from hypothesis import settings

from .backends import BACKENDS, use_backend
from .properties import PROPERTIES, Property


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("prop", PROPERTIES, ids=[p.name for p in PROPERTIES])
def test_webhook_keeps_its_promise(prop: Property, backend: str) -> None:
    with use_backend(backend):
        prop.run(settings.get_profile("fuzz"))
