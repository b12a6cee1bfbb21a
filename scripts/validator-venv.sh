#!/usr/bin/env bash
# Build .venv-badgecheck: the official Open Badges 2.0 validator (PyPI badgecheck 1.2.0) in its
# own virtualenv, for the conformance tests (tests/conformance/). Its declared pins cannot be
# installed together, so every package is pinned in the requirements file and installed --no-deps.
# Idempotent: does nothing while the venv's stamp matches the requirements file's hash.
# Environment: PYTHON (default python3), VALIDATOR_VENV (default <repo>/.venv-badgecheck).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
venv=${VALIDATOR_VENV:-$root/.venv-badgecheck}
requirements=$root/tests/conformance/requirements-badgecheck.txt
runner=$root/tests/conformance/badgecheck_runner.py
stamp=$venv/.requirements.sha256
wanted=$(sha256sum "$requirements" | cut -d' ' -f1)

# Parallel test workers may all ask for the venv: one builds, the others wait.
exec 9<"$requirements"
flock 9

if [[ -x $venv/bin/python && -f $stamp && $(<"$stamp") == "$wanted" ]]; then
  exit 0
fi
echo "Building the Open Badges validator virtualenv in $venv"
rm -rf "$venv"
"${PYTHON:-python3}" -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps \
  -r "$requirements"
PYTHONDONTWRITEBYTECODE=1 "$venv/bin/python" "$runner" --check
echo "$wanted" >"$stamp"
