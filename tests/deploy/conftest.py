"""What the deployment tests share: the Procfile's processes and the rendered Kubernetes manifests."""
from __future__ import annotations

import os
import shutil
import subprocess

import pytest
import yaml

from tests.conftest import PROJECT_ROOT
from tests.integration.require import require


def procfile_processes() -> dict[str, str]:
    """Process name -> command, as honcho reads the Procfile."""
    lines = (PROJECT_ROOT / "Procfile").read_text().splitlines()
    return dict((name.strip(), command.strip()) for name, _, command in
                (line.partition(":") for line in lines if line.strip() and not line.startswith("#")))


def kubectls() -> list[str]:
    """kubectl on PATH, plus any in DEPLOY_EXTRA_KUBECTLS (colon-separated paths, e.g. Debian's 1.20 for
    its old Kustomize: `apt-get download kubernetes-client`, extracted under /tmp)."""
    extra = [path for path in os.environ.get("DEPLOY_EXTRA_KUBECTLS", "").split(":") if path]
    return ["kubectl", *extra]


@pytest.fixture(scope="session", params=kubectls())
def rendered(request, tmp_path_factory) -> dict[str, list[dict]]:
    """{"base": objects, "production": objects}, rendered by deploy/render.sh (which also checks every
    object against the Kubernetes schemas with kubernetes-validate --strict)."""
    kubectl = request.param
    require(shutil.which(kubectl) is not None,
            f"{kubectl} not found: scripts/system_packages.sh installs Debian's kubernetes-client")
    tools = subprocess.run(["bash", "scripts/tools_venv.sh"], cwd=PROJECT_ROOT, capture_output=True, text=True)
    require(tools.returncode == 0, f"the tooling venv .venv-tools could not be made (scripts/tools_venv.sh): "
                                   f"{tools.stderr[-2000:]}")
    out = tmp_path_factory.mktemp("manifests")
    render = subprocess.run(["bash", "deploy/render.sh", str(out)], cwd=PROJECT_ROOT, capture_output=True,
                            text=True, env={**os.environ, "KUBECTL": kubectl}, timeout=300)
    assert render.returncode == 0, f"deploy/render.sh with {kubectl}:\n{render.stdout}\n{render.stderr}"
    return {name: [doc for doc in yaml.safe_load_all((out / f"{name}.yaml").read_text()) if doc]
            for name in ("base", "production")}
