"""The scale-out examples (systemd unit, Compose, Kubernetes) say the same thing: the same command, the same
settings and secrets, the same graceful-stop time. Read from the files themselves, so that they cannot drift."""

from __future__ import annotations

import configparser
import re
from pathlib import Path
from typing import Any

import yaml

from listener.settings import describe_settings, load_settings

CONFIG = Path(__file__).resolve().parent.parent / "config"
SCALE_OUT = CONFIG / "scale-out"
KUBERNETES = SCALE_OUT / "kubernetes"


def kubernetes_objects() -> dict[tuple[str, str], dict[str, Any]]:
    """Every object of the Kubernetes example, by (kind, name)."""
    objects = {}
    for path in sorted(KUBERNETES.glob("*.yaml")):
        for document in yaml.safe_load_all(path.read_text()):
            assert document["apiVersion"] and document["kind"], path
            objects[(document["kind"], document["metadata"]["name"])] = document
    return objects


def systemd_worker() -> configparser.SectionProxy:
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.optionxform = str  # type: ignore[assignment,method-assign]  # systemd keys are case-sensitive
    unit.read(CONFIG / "systemd" / "listener-worker@.service")
    return unit["Service"]


def compose() -> dict[str, Any]:
    return dict(yaml.safe_load((SCALE_OUT / "compose.yaml").read_text()))


def env_example() -> dict[str, str]:
    lines = (SCALE_OUT / "listener.env.example").read_text().splitlines()
    return dict(line.split("=", 1) for line in lines if line.strip() and not line.startswith("#"))


def container(objects: dict[tuple[str, str], dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    (only,) = objects[(kind, name)]["spec"]["template"]["spec"]["containers"]
    return dict(only)


def seconds(duration: str | int) -> int:
    """A Compose duration ("2m", "90s", "1m30s") in seconds."""
    if isinstance(duration, int):
        return duration
    parts = re.fullmatch(r"(?:(\d+)m)?(?:(\d+)s)?", duration)
    assert parts and duration, duration
    return int(parts.group(1) or 0) * 60 + int(parts.group(2) or 0)


def test_the_worker_runs_the_same_command_everywhere() -> None:
    objects = kubernetes_objects()
    services = compose()["services"]
    executable, *arguments = systemd_worker()["ExecStart"].split()
    assert [Path(executable).name, *arguments] == ["listener", "worker"]
    assert services["worker"]["command"] == ["listener", "worker"]
    assert container(objects, "Deployment", "listener-worker")["command"] == ["listener", "worker"]
    assert container(objects, "Job", "listener-init")["command"] == services["init"]["command"] == ["listener", "init"]


def test_the_graceful_stop_gets_the_same_time_everywhere() -> None:
    deployment = kubernetes_objects()[("Deployment", "listener-worker")]
    unit = systemd_worker()
    worker = compose()["services"]["worker"]
    grace = deployment["spec"]["template"]["spec"]["terminationGracePeriodSeconds"]
    assert grace == int(unit["TimeoutStopSec"]) == seconds(worker["stop_grace_period"]) == 120
    assert unit["KillSignal"] == worker["stop_signal"] == "SIGTERM"  # what Kubernetes sends first, always


def test_the_secrets_and_the_config_file_are_wired_the_same_way() -> None:
    objects = kubernetes_objects()
    known = {env for _, env, _, _, _ in describe_settings()} | {"LISTENER_CONFIG"}
    secrets = {env for _, env, _, _, secret in describe_settings() if secret} | {"LISTENER_DB"}
    secret = objects[("Secret", "listener-secrets")]
    example = env_example()
    assert set(example) <= known, set(example) - known
    # The same secrets as Compose's env file, all from the Secret and none in the ConfigMap.
    assert set(secret["stringData"]) == set(example) & secrets == {"LISTENER_DB", "LISTENER_SMTP_PASSWORD"}
    for name in ("Deployment", "Job"):
        kind, workload = (name, "listener-worker" if name == "Deployment" else "listener-init")
        env = {e["name"]: e for e in container(objects, kind, workload)["env"]}
        assert set(env) <= known, set(env) - known
        from_secret = {n for n, e in env.items() if "valueFrom" in e}
        assert all(env[n]["valueFrom"]["secretKeyRef"]["name"] == "listener-secrets" for n in from_secret)
        assert all(env[n]["valueFrom"]["secretKeyRef"]["key"] == n for n in from_secret)
        assert from_secret <= set(secret["stringData"]) and not (set(env) - from_secret) & secrets
        # The config file where the systemd unit reads it, from the ConfigMap.
        config_file = Path(env["LISTENER_CONFIG"]["value"])
        assert f"LISTENER_CONFIG={config_file}" == systemd_worker()["Environment"]
        spec = objects[(kind, workload)]["spec"]["template"]["spec"]
        (mount,) = container(objects, kind, workload)["volumeMounts"]
        (volume,) = [v for v in spec["volumes"] if v["name"] == mount["name"]]
        assert mount["mountPath"] == str(config_file.parent)
        assert config_file.name in objects[("ConfigMap", volume["configMap"]["name"])]["data"]
    deployment = container(objects, "Deployment", "listener-worker")
    assert {e["name"] for e in deployment["env"]} >= set(secret["stringData"])  # the worker gets every secret


def test_the_configmap_is_a_valid_listener_toml_with_the_compose_settings(tmp_path: Path) -> None:
    config = kubernetes_objects()[("ConfigMap", "listener-config")]["data"]["listener.toml"]
    (tmp_path / "listener.toml").write_text(config)
    database = {"LISTENER_DB": "postgresql+psycopg://listener@db/listener"}
    from_configmap = load_settings(tmp_path / "listener.toml", environ=database)
    from_env_file = load_settings(None, environ={**env_example(), "XDG_CONFIG_HOME": str(tmp_path / "none")})
    settings = {env: key for key, env, _, _, _ in describe_settings()}
    for env in set(env_example()) - {"LISTENER_DB", "LISTENER_SMTP_PASSWORD"}:
        section, key = settings[env].split(".")
        field = "from_" if key == "from" else key
        assert getattr(getattr(from_configmap, section), field) == getattr(getattr(from_env_file, section), field), env
