#!/usr/bin/env bash
# Installs the built wheels (dist/) into a fresh virtual environment outside the source tree, the
# way a user would, and uses them: the CLI validates a CSV, the integrations import.
#
#   scripts/wheel-smoke.sh [DIST_DIR]      PYTHON=python3.12 to pick the interpreter
#
# Dependencies come from PyPI (pip's cache makes reruns fast). Airflow is not installed (hundreds
# of packages): the provider is installed without dependencies, which is enough to prove the wheel
# holds the package and its provider entry point, both of which load without Airflow by design.
# Dagster is installed, and the asset checks are built from a rule file and run on a CSV.
set -euo pipefail

dist=$(cd "${1:-dist}" && pwd)
python=${PYTHON:-python3}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# Run from the temporary directory so nothing in the source tree can be imported by accident.
cd "$work"

wheel() {
    local found=("$dist"/$1-*.whl)
    [[ -f ${found[0]} ]] || { echo "wheel-smoke: no $1 wheel in $dist (run make wheel)" >&2; exit 1; }
    echo "${found[0]}"
}

# The tree's bytecode (`make build` writes it) stays out of the wheel (maturin honours
# .gitignore): pip compiles the wheel's own on install, for the interpreter that runs it.
"$python" - "$(wheel pyrustpipe)" <<'PY'
import sys, zipfile

bytecode = [n for n in zipfile.ZipFile(sys.argv[1]).namelist() if n.endswith(".pyc")]
if bytecode:
    sys.exit(f"wheel-smoke: the pyrustpipe wheel holds bytecode: {bytecode[:3]}")
PY

"$python" -m venv venv
pip=(venv/bin/python -m pip install -q --disable-pip-version-check)
"${pip[@]}" "$(wheel pyrustpipe)" "$(wheel dagster_pyrustpipe)"
"${pip[@]}" --no-deps "$(wheel airflow_provider_pyrustpipe)"

# The extension exports its init function and nothing else (pyrustpipe_py/exports.map).
so=$(venv/bin/python -c 'import pyrustpipe._core as c; print(c.__file__)')
exported=$(nm -D --defined-only "$so" | awk '{print $3}')
[[ $exported == PyInit__core ]] || { echo "wheel-smoke: $so exports: $exported" >&2; exit 1; }
echo "wheel-smoke: $(du -k "$so" | cut -f1) KiB extension, exports only PyInit__core"

printf 'id,amount\n1,10.5\n2,3\n' >good.csv
printf 'id,amount\n1,10.5\n2,-3\n' >bad.csv
cat >rules.py <<'RULES'
import pyrustpipe as pp

class Payment(pp.Schema):
    id: int = pp.Field(unique=True)
    amount: float = pp.Field(ge=0)
RULES

venv/bin/pyrustpipe --version
venv/bin/pyrustpipe validate good.csv --rules rules.py
status=0
venv/bin/pyrustpipe validate bad.csv --rules rules.py >/dev/null || status=$?
[[ $status -eq 1 ]] || { echo "wheel-smoke: a failing CSV exited $status, not 1" >&2; exit 1; }

venv/bin/python - <<'PY'
import importlib.metadata as md
from pathlib import Path

import pyrustpipe
import pyrustpipe_provider
from pyrustpipe_provider.get_provider_info import get_provider_info

import dagster as dg
import dagster_pyrustpipe

# The installed code, not the source tree.
for module in (pyrustpipe, pyrustpipe_provider, dagster_pyrustpipe):
    assert "site-packages" in module.__file__, module.__file__
for dist in ("pyrustpipe", "airflow-provider-pyrustpipe", "dagster-pyrustpipe"):
    meta = md.metadata(dist)
    assert meta["License-Expression"] == "Apache-2.0", (dist, meta["License-Expression"])
    assert any(f.name == "LICENSE" for f in md.files(dist) or []), f"{dist}: no LICENSE"
assert get_provider_info()["package-name"] == "airflow-provider-pyrustpipe"

rules = pyrustpipe.load_rules("rules.py")


@dg.asset
def payments() -> None:
    """Stands for an asset that wrote bad.csv."""


checks = dagster_pyrustpipe.build_pyrustpipe_checks(
    asset=payments, schema=rules, source=str(Path("bad.csv").resolve())
)
result = dg.materialize(
    [payments, *checks], resources={"pyrustpipe": dagster_pyrustpipe.PyRustPipeResource()}
)
passed = {e.check_name: e.passed for e in result.get_asset_check_evaluations()}
assert passed["amount__ge"] is False and passed["id__unique"] is True, passed
PY
echo "wheel-smoke: ok"
