"""The ``badgecheck`` fixture: the official Open Badges 2.0 validator, run offline.

badgecheck 1.2.0 lives in its own virtualenv (``.venv-badgecheck``, built by
``scripts/validator-venv.sh``, which ``make test`` runs first); each call runs
``badgecheck_runner.py`` there as a subprocess.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
VENV = Path(os.environ.get("VALIDATOR_VENV", ROOT / ".venv-badgecheck"))
RUNNER = HERE / "badgecheck_runner.py"
BUILD_SCRIPT = ROOT / "scripts" / "validator-venv.sh"
BUILD_TIMEOUT = 600
RUN_TIMEOUT = 90

Badgecheck = Callable[..., dict[str, Any]]


def validator_python() -> Path:
    """The validator venv's interpreter, building the venv first when missing or stale."""
    env = {**os.environ, "VALIDATOR_VENV": str(VENV)}
    build = subprocess.run(
        ["bash", str(BUILD_SCRIPT)],
        capture_output=True,
        text=True,
        timeout=BUILD_TIMEOUT,
        env=env,
    )
    if build.returncode != 0:
        raise RuntimeError(
            f"{BUILD_SCRIPT} failed ({build.returncode}):\n{build.stdout}\n{build.stderr}"
        )
    return VENV / "bin" / "python"


@pytest.fixture(scope="session")
def badgecheck(tmp_path_factory: pytest.TempPathFactory) -> Badgecheck:
    """``badgecheck(input, recipient=None) -> dict``: validate with the official validator.

    ``input`` is a URL, a compact JWS, assertion JSON or the path of a baked PNG/SVG file;
    ``recipient`` an email, an E.164 telephone, an http(s) URL or a ready ``Profile`` dict.
    The result has ``valid``, ``errors`` and ``warnings`` (badgecheck messages: ``name`` is
    the failed task, ``result`` its text), ``report`` (badgecheck's full output) and
    ``stderr``; or ``valid: False`` with ``crash`` when the validator raised.
    """
    python = validator_python()
    workdir = tmp_path_factory.mktemp("badgecheck")
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV"}
    }
    env["PYTHONDONTWRITEBYTECODE"] = "1"

    def run(badge_input: str | os.PathLike[str], recipient: Any = None) -> dict[str, Any]:
        request = json.dumps({"input": os.fspath(badge_input), "recipient": recipient})
        done = subprocess.run(
            [str(python), str(RUNNER)],
            input=request,
            capture_output=True,
            text=True,
            timeout=RUN_TIMEOUT,
            cwd=workdir,
            env=env,
        )
        if done.returncode != 0:
            raise RuntimeError(f"badgecheck runner failed ({done.returncode}):\n{done.stderr}")
        result = json.loads(done.stdout)
        result["stderr"] = done.stderr
        return result

    return run
