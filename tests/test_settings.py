"""Settings: TOML file, environment overrides, secrets only from the environment, clear errors."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from listener.errors import ConfigError
from listener.settings import describe_settings, load_settings
from listener.settings_doc import example_toml

REPO = Path(__file__).resolve().parents[1]


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "listener.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_without_file(tmp_path: Path) -> None:
    settings = load_settings(None, environ={"XDG_CONFIG_HOME": str(tmp_path), "XDG_DATA_HOME": str(tmp_path)})
    assert settings.fetch.allow_private_networks is False
    assert settings.smtp.security == "none"
    assert settings.database_url == f"sqlite:///{tmp_path / 'listener' / 'listener.db'}"


def test_file_then_environment_override(tmp_path: Path) -> None:
    path = write(tmp_path, '[smtp]\nhost = "mail.example.com"\nport = 587\nfrom = "Sales <s@example.com>"\n')
    env = {"LISTENER_SMTP_PORT": "2525", "LISTENER_FETCH_ALLOW_PRIVATE_NETWORKS": "true", "LISTENER_DB": "sqlite://"}
    settings = load_settings(path, environ=env)
    assert settings.smtp.host == "mail.example.com"
    assert settings.smtp.port == 2525
    assert settings.smtp.from_ == "Sales <s@example.com>"
    assert settings.fetch.allow_private_networks is True
    assert settings.database_url == "sqlite://"


def test_secret_in_file_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, '[smtp]\npassword = "hunter2"\n')
    with pytest.raises(ConfigError, match="secret") as info:
        load_settings(path, environ={})
    assert "hunter2" not in info.value.explain()


def test_secret_from_environment_or_named_file(tmp_path: Path) -> None:
    secret_file = tmp_path / "token"
    secret_file.write_text("from-file\n", encoding="utf-8")
    path = write(tmp_path, f'[twitter]\nbearer_token_file = "{secret_file}"\n')
    assert load_settings(path, environ={}).twitter.bearer_token == "from-file"
    env = {"LISTENER_TWITTER_BEARER_TOKEN": "from-env"}
    assert load_settings(path, environ=env).twitter.bearer_token == "from-env"


@pytest.mark.parametrize(
    ("text", "env", "message"),
    [
        ("[fetch]\nmax_bytes = 'lots'\n", {}, "fetch.max_bytes: expected a int"),
        ("[smtp]\nsecurity = 'tls'\n", {}, "smtp.security must be one of none, starttls, ssl"),
        ("[smtp]\nhots = 'x'\n", {}, "unknown key smtp.hots"),
        ("[nope]\n", {}, "unknown section [nope]"),
        ("[fetch\n", {}, "not valid TOML"),
        ("", {"LISTENER_FETCH_ALLOW_PRIVATE_NETWORKS": "maybe"}, "fetch.allow_private_networks"),
        ("[relevance]\nsecond_opinion_threads = -1\n", {}, "relevance.second_opinion_threads must be 0"),
    ],
)
def test_bad_settings_are_one_clear_line(tmp_path: Path, text: str, env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(write(tmp_path, text), environ=env)
    assert message in info.value.explain()
    assert "\n" not in info.value.explain()


def test_missing_config_file_is_explained(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(tmp_path / "absent.toml", environ={})


def test_example_file_is_current_and_loads() -> None:
    example = REPO / "config" / "listener.toml"
    assert example.read_text(encoding="utf-8") == example_toml(), "regenerate: python -m listener.settings_doc"
    tomllib.loads(example.read_text(encoding="utf-8"))
    load_settings(example, environ={})
    for key, *_ in describe_settings():
        assert f"# {key.split('.')[1]}" in example.read_text(encoding="utf-8")
