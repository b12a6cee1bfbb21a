"""The browsable referentials, in plain French, open to everyone."""

from __future__ import annotations

from flask import Blueprint, abort, render_template

from app.extensions import db
from app.queries import referentials as referential_queries

bp = Blueprint("referentials", __name__, url_prefix="/referentiels")


@bp.get("/")
def index():  # type: ignore[no-untyped-def]
    return render_template(
        "referentials/index.html",
        grids=referential_queries.current_grids(db.session),
        scale=referential_queries.current_scale(db.session),
    )


@bp.get("/<code>/v<int:version>")
def show(code: str, version: int):  # type: ignore[no-untyped-def]
    referential = referential_queries.referential_version(db.session, code, version)
    if referential is None or referential.kind not in referential_queries.KIND_ORDER:
        abort(404)
    return render_template(
        "referentials/show.html",
        referential=referential,
        versions=referential_queries.versions_of(db.session, code),
        scale=referential_queries.current_scale(db.session),
    )
