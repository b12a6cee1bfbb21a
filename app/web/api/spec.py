"""The OpenAPI 3.1 description of API v1, served as JSON."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import yaml

from app.web.api import bp

SPEC_PATH = Path(__file__).with_name("openapi.yaml")


@cache
def load_spec() -> dict[str, Any]:
    """The OpenAPI document (read once)."""
    return yaml.safe_load(SPEC_PATH.read_text(encoding="utf-8"))


@bp.get("/openapi.json")
def openapi():  # type: ignore[no-untyped-def]
    return load_spec()
