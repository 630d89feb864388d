"""The deployment files, checked offline (no Docker engine, no cluster): the Dockerfile statically, the
compose file parsed, the Kustomize base and production overlay rendered by kubectl and checked against
the Kubernetes JSON schemas (deploy/render.sh), then against what the processes need."""
from __future__ import annotations

import fnmatch
import re
import subprocess

import pytest
import yaml

from tests.conftest import PROJECT_ROOT
from tests.deploy.conftest import procfile_processes

# The secrets every process must share; bot/config.py would generate each per container when unset.
SHARED_SECRETS = {"RASA_API_TOKEN", "ACTION_SERVER_TOKEN", "LINK_SECRET", "PAYMENTS_FEED_SECRET"}
# Settings named in a deployment file that belong to a third party, not to bot/config.py and friends.
THIRD_PARTY_SETTINGS = {"RASA_TELEMETRY_ENABLED"}


def code_settings() -> set[str]:
    """Every upper-case name the Python code reads from the environment, as quoted in the source."""
    names = set()
    for folder in ("bot", "channels", "action_server", "actions", "rasa_runtime"):
        for path in (PROJECT_ROOT / folder).rglob("*.py"):
            names |= set(re.findall(r"""["']([A-Z][A-Z0-9_]{2,})["']""", path.read_text(encoding="utf-8")))
    return names


# ------------------------------------------------------------------ Dockerfile

def dockerfile_stages() -> list[list[tuple[str, str]]]:
    """The Dockerfile as stages of (instruction, arguments), continuation lines joined."""
    text = re.sub(r"\\\n", " ", (PROJECT_ROOT / "Dockerfile").read_text())
    stages: list[list[tuple[str, str]]] = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        instruction, _, arguments = line.partition(" ")
        if instruction.upper() == "FROM":
            stages.append([])
        stages[-1].append((instruction.upper(), arguments.strip()))
    return stages


def test_the_image_is_python_310_slim_with_the_locked_requirements():
    stages = dockerfile_stages()
    assert stages[0][0] == ("FROM", "python:3.10-slim AS runtime")
    first = stages[0]
    assert ("COPY", "requirements.lock ./") in first
    install = " ".join(arguments for instruction, arguments in first if instruction == "RUN")
    assert "pip install --quiet -r requirements.lock" in install and "pip check" in install
    # Every later stage builds on that one: no second, unpinned install.
    assert all(stage[0][1].startswith("runtime") for stage in stages[1:])


def test_the_image_runs_as_a_numeric_non_root_user_with_a_healthcheck_and_the_entrypoint():
    final = dict(dockerfile_stages()[-1])
    user = final["USER"].split(":")[0]
    assert user.isdigit() and int(user) != 0, "runAsNonRoot can only verify a numeric user"
    assert "deploy/healthcheck.py" in final["HEALTHCHECK"] and "CMD" in final["HEALTHCHECK"]
    assert final["ENTRYPOINT"] == '["deploy/entrypoint.sh"]'
    entrypoint = PROJECT_ROOT / "deploy" / "entrypoint.sh"
    assert entrypoint.stat().st_mode & 0o111, "the entry point must be executable (COPY keeps the mode)"


def test_the_model_is_trained_in_the_build_and_local_state_stays_out():
    stages = dockerfile_stages()
    assert any(instruction == "RUN" and "rasa train" in arguments for stage in stages for instruction, arguments in stage)
    assert ("COPY", "--from=model /app/models/assistant.tar.gz models/assistant.tar.gz") in stages[-1]
    ignored = set((PROJECT_ROOT / ".dockerignore").read_text().split())
    assert {".env", ".venv", "var", "models", ".git", ".venv-tools"} <= ignored


def build_context() -> set[str]:
    """The committed files `docker build .` sends, after .dockerignore (its patterns here are plain
    names, globs and `**/` prefixes: a file is left out when a pattern matches it or a folder above it)."""
    patterns = [line.strip() for line in (PROJECT_ROOT / ".dockerignore").read_text().splitlines()
                if line.strip() and not line.startswith("#")]
    files = subprocess.run(["git", "ls-files"], cwd=PROJECT_ROOT, capture_output=True, text=True,
                           check=True).stdout.split()

    def ignored(path: str) -> bool:
        parts = path.split("/")
        prefixes = ["/".join(parts[:i]) for i in range(1, len(parts) + 1)]
        return any(fnmatch.fnmatchcase(prefix, pattern) or
                   (pattern.startswith("**/") and fnmatch.fnmatchcase(prefix.split("/")[-1], pattern[3:]))
                   for pattern in patterns for prefix in prefixes)

    return {path for path in files if not ignored(path)}


def test_the_build_context_holds_every_process_the_training_inputs_and_no_tests():
    context = build_context()
    # What the Procfile's commands and the entry point import or read, and what `rasa train` reads.
    needed = {"Procfile", "policy.yml", "config.yml", "domain.yml", "requirements.lock", "deploy/entrypoint.sh",
              "deploy/healthcheck.py", "action_server/__main__.py", "rasa_runtime/__main__.py",
              "channels/web/__main__.py", "bot/outreach/__main__.py", "bot/cli.py"}
    assert needed <= context, sorted(needed - context)
    for folder in ("data/", "nlu_components/", "bot/storage/migrations/", "channels/widget/static/"):
        assert any(path.startswith(folder) for path in context), folder
    assert not any(path.startswith("tests/") for path in context)


# ------------------------------------------------------------------ compose.yaml

@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((PROJECT_ROOT / "compose.yaml").read_text())


def app_services(compose: dict) -> dict[str, dict]:
    """The services that run the assistant's image (not PostgreSQL or Redis)."""
    return {name: service for name, service in compose["services"].items() if service.get("build")}


def test_every_procfile_process_has_a_compose_service_running_it(compose):
    commands = {tuple(service["command"]) for service in app_services(compose).values()}
    for process in procfile_processes():
        assert (process,) in commands, f"no compose service runs the Procfile's {process!r}"


def test_migrations_run_once_before_every_process_of_the_procfile(compose):
    services = app_services(compose)
    migrations = [name for name, service in services.items() if service["command"] == ["migrate"]]
    assert migrations == ["migrations"]
    assert services["migrations"]["restart"] == "no"
    assert services["migrations"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    for name, service in services.items():
        if name != "migrations":
            assert service["depends_on"]["migrations"]["condition"] == "service_completed_successfully", name


def test_compose_runs_two_rasa_replicas_and_checks_the_health_of_every_long_running_service(compose):
    services = compose["services"]
    assert services["rasa"]["deploy"]["replicas"] == 2
    assert services["rasa"]["environment"]["REDIS_URL"], "two Rasa processes need the Redis lock store"
    for name, service in services.items():
        if name != "migrations":
            assert service.get("healthcheck", {}).get("test"), f"{name} has no healthcheck"
            assert not service["healthcheck"].get("disable"), name


def test_compose_services_run_as_the_images_non_root_user_and_share_secrets_from_env(compose):
    raw = (PROJECT_ROOT / "compose.yaml").read_text()
    for name, service in app_services(compose).items():
        assert str(service.get("user", "10001")).split(":")[0] not in ("0", "root"), name
        environment = service["environment"]
        for secret in SHARED_SECRETS:
            # `${NAME:?…}`: compose stops when the secret is missing instead of each container generating its own.
            assert re.search(rf"{secret}: \$\{{{secret}:\?", raw), secret
            assert secret in environment, (name, secret)


def test_compose_names_only_settings_the_code_reads(compose):
    known = code_settings() | THIRD_PARTY_SETTINGS
    for name, service in app_services(compose).items():
        unknown = set(service["environment"]) - known
        assert not unknown, f"{name}: {sorted(unknown)} are read by nothing"


# ------------------------------------------------------------------ Kubernetes

def objects(rendered: dict, which: str, kind: str) -> dict[str, dict]:
    return {obj["metadata"]["name"]: obj for obj in rendered[which] if obj["kind"] == kind}


def pod_specs(rendered: dict, which: str) -> dict[str, dict]:
    """Deployments' and Jobs' pod specs by workload name."""
    return {name: obj["spec"]["template"]["spec"] for kind in ("Deployment", "Job")
            for name, obj in objects(rendered, which, kind).items()}


def http_probe(container: dict, probe: str) -> tuple[str, int]:
    """(path, port number) of an HTTP probe, the named port resolved."""
    get = container[probe]["httpGet"]
    ports = {port["name"]: port["containerPort"] for port in container.get("ports", [])}
    return get["path"], ports.get(get["port"], get["port"])


@pytest.mark.slow
def test_every_procfile_process_has_a_deployment_and_the_migrations_a_job(rendered):
    for which in ("base", "production"):
        args = {name: spec["containers"][0]["args"] for name, spec in pod_specs(rendered, which).items()}
        for process in procfile_processes():
            assert [process] in args.values(), f"{which}: no Deployment runs the Procfile's {process!r}"
        assert objects(rendered, which, "Job")["migrate"]["spec"]["template"]["spec"]["containers"][0]["args"] == ["migrate"]


@pytest.mark.slow
@pytest.mark.parametrize("workload, path, port", [("rasa", "/", 5005), ("actions", "/health", 5055),
                                                  ("web", "/healthz", 8000)])
def test_servers_have_readiness_and_liveness_probes_on_their_health_paths(rendered, workload, path, port):
    container = pod_specs(rendered, "production")[workload]["containers"][0]
    for probe in ("readinessProbe", "livenessProbe"):
        assert http_probe(container, probe) == (path, port), (workload, probe)


@pytest.mark.slow
def test_rasa_and_the_action_server_scale_on_cpu_and_the_scheduler_stays_single(rendered):
    deployments = objects(rendered, "production", "Deployment")
    scaled = {hpa["spec"]["scaleTargetRef"]["name"]: hpa for hpa in objects(rendered, "production",
                                                                               "HorizontalPodAutoscaler").values()}
    assert set(scaled) == {"rasa", "actions"}
    for name, hpa in scaled.items():
        assert hpa["spec"]["scaleTargetRef"]["kind"] == "Deployment" and name in deployments
        assert 2 <= hpa["spec"]["minReplicas"] < hpa["spec"]["maxReplicas"]
        assert hpa["spec"]["metrics"][0]["resource"]["name"] == "cpu"
        # Utilization is a share of the request: without one the autoscaler cannot act.
        assert deployments[name]["spec"]["template"]["spec"]["containers"][0]["resources"]["requests"]["cpu"]
    scheduler = deployments["scheduler"]
    assert scheduler["spec"]["replicas"] == 1 and scheduler["spec"]["strategy"]["type"] == "Recreate"


@pytest.mark.slow
def test_every_container_requests_resources_and_rasa_about_a_gigabyte(rendered):
    def mebibytes(quantity: str) -> float:
        number, unit = re.fullmatch(r"(\d+)(Mi|Gi)", quantity).groups()
        return int(number) * (1024 if unit == "Gi" else 1)

    for name, spec in pod_specs(rendered, "production").items():
        resources = spec["containers"][0]["resources"]
        assert resources["requests"]["memory"] and resources["requests"]["cpu"], name
        assert mebibytes(resources["limits"]["memory"]) >= mebibytes(resources["requests"]["memory"]), name
    rasa = pod_specs(rendered, "production")["rasa"]["containers"][0]["resources"]
    assert mebibytes(rasa["requests"]["memory"]) >= 1024, "each Rasa process holds the model: ~1 GB"


@pytest.mark.slow
def test_pods_run_as_non_root_without_service_link_variables(rendered):
    for which in ("base", "production"):
        for name, spec in pod_specs(rendered, which).items():
            # Service links would set RASA_PORT=tcp://… and WEB_PORT=tcp://…, which bot/config.py reads as ports.
            assert spec["enableServiceLinks"] is False, (which, name)
            assert spec["securityContext"]["runAsNonRoot"] is True, (which, name)
            assert spec["securityContext"]["runAsUser"] != 0, (which, name)
            assert spec["containers"][0]["securityContext"]["allowPrivilegeEscalation"] is False, (which, name)


@pytest.mark.slow
def test_the_ingress_sends_sockets_to_rasa_the_rest_to_the_web_app_and_keeps_streams_open(rendered):
    ingress = objects(rendered, "production", "Ingress")["debt-assistant"]
    routes = {path["path"]: path["backend"]["service"]["name"]
              for rule in ingress["spec"]["rules"] for path in rule["http"]["paths"]}
    assert routes == {"/socket.io": "rasa", "/webhooks/telegram": "rasa", "/": "web"}, \
        "Rasa's HTTP API and the action server must not be public"
    annotations = ingress["metadata"]["annotations"]
    assert int(annotations["nginx.ingress.kubernetes.io/proxy-read-timeout"]) >= 3600  # idle sockets, SSE
    assert annotations["nginx.ingress.kubernetes.io/proxy-buffering"] == "off"  # each console event at once
    assert ingress["spec"]["tls"], "production serves HTTPS"
    services = objects(rendered, "production", "Service")
    assert {port["port"] for port in services["rasa"]["spec"]["ports"]} == {5005}
    assert {port["port"] for port in services["web"]["spec"]["ports"]} == {8000}


@pytest.mark.slow
def test_production_takes_tokens_and_urls_from_a_secret_and_settings_the_code_reads(rendered):
    secrets = objects(rendered, "production", "Secret")
    config_maps = objects(rendered, "production", "ConfigMap")
    assert len(secrets) == 1 and len(config_maps) == 1
    (secret_name, secret), = secrets.items()
    (config_name, config), = config_maps.items()
    assert SHARED_SECRETS | {"DATABASE_URL", "TRACKER_STORE_URL", "REDIS_URL"} <= set(secret["data"])
    assert not set(config["data"]) & (SHARED_SECRETS | {"DATABASE_URL", "TRACKER_STORE_URL", "REDIS_URL"})
    assert config["data"]["APP_ENV"] == "production"
    known = code_settings() | THIRD_PARTY_SETTINGS
    assert not (set(secret["data"]) | set(config["data"])) - known
    for name, spec in pod_specs(rendered, "production").items():
        sources = spec["containers"][0]["envFrom"]
        # The generated names (with their content hash) are the ones the pods refer to.
        assert {"secretRef": {"name": secret_name}} in sources and {"configMapRef": {"name": config_name}} in sources, name


@pytest.mark.slow
def test_production_uses_the_registry_image_in_its_namespace(rendered):
    for name, spec in pod_specs(rendered, "production").items():
        assert re.fullmatch(r"registry\.example\.com/debt-assistant:[\w.-]+", spec["containers"][0]["image"]), name
    assert all(obj["metadata"].get("namespace") == "debt-assistant"
               for obj in rendered["production"] if obj["kind"] != "Namespace")


def test_the_secret_file_of_an_overlay_is_ignored_by_git():
    checked = subprocess.run(["git", "check-ignore", "--quiet", "deploy/k8s/overlays/production/secrets.env"],
                             cwd=PROJECT_ROOT)
    assert checked.returncode == 0, "secrets.env would be committable: deploy/.gitignore must list it"
