"""JSON API v1: bearer-token authentication, scoped like the pages (OpenAPI in openapi.yaml)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")

from app.web.api import observations, spec, verify  # noqa: E402,F401  (routes register on bp)
