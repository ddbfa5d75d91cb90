"""Settings, declared once: each field's default, help and type live here; TOML file plus environment overrides.

Every key `section.key` can be set by the environment variable `LISTENER_<SECTION>_<KEY>`. Secrets are read
only from the environment, or from a file whose path the TOML names as `<key>_file`; never from the TOML itself.
"""

from __future__ import annotations

import os
import tomllib
import types
import typing
from collections.abc import Mapping
from dataclasses import MISSING, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from listener.errors import ConfigError


def _opt(default: Any, help: str, *, secret: bool = False, choices: tuple[str, ...] = ()) -> Any:
    """Declare one setting: its default, its help line, whether it is a secret, its allowed values."""
    meta = {"help": help, "secret": secret, "choices": choices}
    if isinstance(default, list):
        return field(default_factory=lambda: list(default), metadata=meta)
    return field(default=default, metadata=meta)


def default_database_url(env: Mapping[str, str] | None = None) -> str:
    """A SQLite file under the user's data directory, so cron and a terminal see the same database."""
    env = os.environ if env is None else env
    data_home = Path(env.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return f"sqlite:///{data_home / 'listener' / 'listener.db'}"


@dataclass(frozen=True)
class DatabaseSettings:
    url: str = _opt("", "SQLAlchemy URL; LISTENER_DB also sets it. Default: a SQLite file in ~/.local/share.")


@dataclass(frozen=True)
class FetchSettings:
    connect_timeout: float = _opt(10.0, "Seconds to wait for a TCP/TLS connection.")
    total_timeout: float = _opt(30.0, "Seconds one fetch may take from start to last byte.")
    max_bytes: int = _opt(10_000_000, "Largest body accepted, counted after decompression.")
    max_redirects: int = _opt(5, "Redirects followed before giving up.")
    allow_private_networks: bool = _opt(
        False, "Allow loopback, private and link-local addresses (cloud metadata is always refused)."
    )
    user_agent: str = _opt("Listener/0.1 (+https://github.com/listener-app/listener)", "User-Agent sent.")
    concurrency: int = _opt(200, "Fetches in flight at once in one ingest run.")
    per_host: int = _opt(4, "Fetches in flight at once to the same host.")


@dataclass(frozen=True)
class IngestSettings:
    interval_minutes: int = _opt(60, "How often a healthy source is polled.")
    first_poll_days: int = _opt(14, "On a new source's first poll, only posts this recent reach digests.")
    max_backoff_hours: int = _opt(24, "Longest wait after repeated errors; polling never stops for good.")
    lease_seconds: int = _opt(
        120, "How long a source's lease lasts; renewed every third of it while the source is in flight."
    )
    claim_size: int = _opt(500, "Due sources a run claims at a time; it claims the next chunk when one is done.")
    workers: int = _opt(0, "Parser processes; 0 means one per core.")


@dataclass(frozen=True)
class TwitterSettings:
    api_base: str = _opt("https://api.twitter.com", "X API base URL (for proxies and test servers).")
    bearer_token: str = _opt("", "X API v2 bearer token: LISTENER_TWITTER_BEARER_TOKEN.", secret=True)
    include_retweets: bool = _opt(False, "Keep retweets.")
    include_replies: bool = _opt(False, "Keep replies.")
    timeout: float = _opt(20.0, "Seconds one API call may take.")


@dataclass(frozen=True)
class RedditSettings:
    oauth_base: str = _opt("https://oauth.reddit.com", "Reddit OAuth API base URL.")
    www_base: str = _opt("https://www.reddit.com", "Reddit www base URL (token endpoint).")
    client_id: str = _opt("", "Reddit app client id: LISTENER_REDDIT_CLIENT_ID.", secret=True)
    client_secret: str = _opt("", "Reddit app secret: LISTENER_REDDIT_CLIENT_SECRET.", secret=True)
    user_agent: str = _opt("python:listener:0.1 (social listening for sales teams)", "Reddit user agent.")
    timeout: float = _opt(20.0, "Seconds one API call may take.")


@dataclass(frozen=True)
class SmtpSettings:
    host: str = _opt("localhost", "SMTP server.")
    port: int = _opt(25, "SMTP port (587 for starttls, 465 for ssl).")
    security: str = _opt("none", "Transport security.", choices=("none", "starttls", "ssl"))
    user: str = _opt("", "SMTP login; empty means no login.")
    password: str = _opt("", "SMTP password: LISTENER_SMTP_PASSWORD.", secret=True)
    from_: str = _opt("Listener <listener@localhost>", "From address of digests (TOML key `from`).")
    timeout: float = _opt(300.0, "Seconds to wait for each SMTP reply (RFC 5321 4.5.3.2: 5 minutes).")
    data_timeout: float = _opt(
        600.0, "Seconds to wait for the reply to the end of a message (RFC 5321 4.5.3.2: 10 minutes)."
    )


@dataclass(frozen=True)
class DigestSettings:
    max_customers: int = _opt(8, "Customer cards in a digest; the rest are named in one line.")
    max_items_per_card: int = _opt(3, "Items shown on one customer's card; the rest are named in one line.")
    send_empty: bool = _opt(False, "Send a digest even on a day with nothing in it.")
    claim_size: int = _opt(20, "Due reps a run claims at a time (workers share the due digests in chunks).")
    lease_seconds: int = _opt(
        120, "How long a claimed rep's lease lasts; renewed every third of it while the run is sending."
    )
    date_lookback_days: int = _opt(60, "How far back business-date topics are drawn from.")
    date_min_topics: int = _opt(3, "Fresh topics needed before a business date is suggested.")
    meeting_gap_days: int = _opt(45, "No business date is suggested within this many days of a meeting.")
    upcoming_days: int = _opt(7, "How far ahead anniversaries and birthdays are shown.")
    gesture_weekday: int = _opt(0, "Weekday (0=Monday) of the weekly unexpected gesture.")


@dataclass(frozen=True)
class RelevanceSettings:
    rules_dir: str = _opt("", "Extra rules folder, read after the bundled rules (phrases, customer keywords).")
    min_score: float = _opt(0.35, "Below this score a post is treated as `none`.")
    second_opinion: bool = _opt(
        True,
        "`listener classify`/`eval` and the ingest's pass over posts that can reach a digest ask the learned model "
        "for its reading of the rules' verdict (false: rules only).",
    )
    second_opinion_max_posts: int = _opt(
        25,
        "At most this many posts per ingest run get the second opinion, the relevant and newest first "
        "(the model reads 10-20 posts a second, two encoder passes a post; the rest keep the rules' label).",
    )
    second_opinion_threads: int = _opt(
        0,
        "Threads of the encoder in the ingest's second-opinion pass (0: up to two, the cores there are). A lone "
        "ingest finishes the pass in half the time with two; several workers on one host run it at once, so set 1 "
        "there (more threads than cores only makes them contend).",
    )


@dataclass(frozen=True)
class WebSettings:
    base_url: str = _opt(
        "", "Public address of `listener serve` that reps' feedback links use (https://...); empty: no feedback links."
    )
    host: str = _opt("127.0.0.1", "Address `listener serve` listens on (put a TLS reverse proxy in front).")
    port: int = _opt(8765, "Port `listener serve` listens on.")
    token_days: int = _opt(30, "Days a feedback link in a digest keeps working.")
    secret: str = _opt("", "Key that signs feedback links: LISTENER_WEB_SECRET (32+ random bytes).", secret=True)


@dataclass(frozen=True)
class WorkerSettings:
    interval_seconds: int = _opt(60, "`listener worker`: seconds between looks for due sources and due digests.")


@dataclass(frozen=True)
class Settings:
    database: DatabaseSettings = field(default_factory=DatabaseSettings)
    fetch: FetchSettings = field(default_factory=FetchSettings)
    ingest: IngestSettings = field(default_factory=IngestSettings)
    twitter: TwitterSettings = field(default_factory=TwitterSettings)
    reddit: RedditSettings = field(default_factory=RedditSettings)
    smtp: SmtpSettings = field(default_factory=SmtpSettings)
    digest: DigestSettings = field(default_factory=DigestSettings)
    relevance: RelevanceSettings = field(default_factory=RelevanceSettings)
    web: WebSettings = field(default_factory=WebSettings)
    worker: WorkerSettings = field(default_factory=WorkerSettings)
    config_path: str | None = None

    @property
    def database_url(self) -> str:
        return self.database.url or default_database_url()


SECTIONS: dict[str, Any] = {
    "database": DatabaseSettings,
    "fetch": FetchSettings,
    "ingest": IngestSettings,
    "twitter": TwitterSettings,
    "reddit": RedditSettings,
    "smtp": SmtpSettings,
    "digest": DigestSettings,
    "relevance": RelevanceSettings,
    "web": WebSettings,
    "worker": WorkerSettings,
}


def _toml_key(name: str) -> str:
    # `from` is a Python keyword, so the field is `from_`; the TOML and env key stay `from`.
    return name.rstrip("_")


def _coerce(raw: Any, target: Any, where: str) -> Any:
    """Turn a TOML or environment value into the field's type, or explain what is wrong."""
    if isinstance(target, str):  # postponed annotations
        target = {"str": str, "int": int, "float": float, "bool": bool, "list[str]": list}.get(target, str)
    if typing.get_origin(target) in (list, types.GenericAlias):
        target = list
    try:
        if target is bool:
            if isinstance(raw, bool):
                return raw
            lowered = str(raw).strip().lower()
            if lowered in ("1", "true", "yes", "on"):
                return True
            if lowered in ("0", "false", "no", "off", ""):
                return False
            raise ValueError(raw)
        if target is int and not isinstance(raw, bool):
            return int(raw)
        if target is float and not isinstance(raw, bool):
            return float(raw)
        if target is list:
            if isinstance(raw, list):
                return [str(item) for item in raw]
            return [part.strip() for part in str(raw).split(",") if part.strip()]
        if target is str:
            return str(raw)
    except ValueError:
        pass
    raise ConfigError(f"{where}: expected a {getattr(target, '__name__', target)}, got {raw!r}")


def load_settings(
    config_path: str | os.PathLike[str] | None = None, environ: Mapping[str, str] | None = None
) -> Settings:
    """Read the TOML file (`--config`, `LISTENER_CONFIG`, or ~/.config/listener/listener.toml) and the environment."""
    env = os.environ if environ is None else environ
    path = _find_config(config_path, env)
    document: dict[str, Any] = {}
    if path is not None:
        try:
            document = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"config file {path} does not exist", hint="check --config or LISTENER_CONFIG") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"config file {path} is not valid TOML: {exc}") from None

    sections: dict[str, Any] = {}
    for section_name, section_cls in SECTIONS.items():
        table = document.get(section_name, {})
        if not isinstance(table, dict):
            raise ConfigError(f"config file {path}: [{section_name}] must be a table")
        known = {_toml_key(f.name) for f in fields(section_cls)}
        known |= {f"{_toml_key(f.name)}_file" for f in fields(section_cls) if f.metadata.get("secret")}
        unknown = sorted(set(table) - known)
        if unknown:
            raise ConfigError(
                f"config file {path}: unknown key {section_name}.{unknown[0]}",
                hint=f"known keys: {', '.join(sorted(known))}",
            )
        sections[section_name] = _load_section(section_cls, section_name, table, env)
    unknown_sections = sorted(set(document) - set(sections))
    if unknown_sections:
        raise ConfigError(f"config file {path}: unknown section [{unknown_sections[0]}]")
    settings = Settings(**sections, config_path=str(path) if path else None)
    if settings.relevance.second_opinion_threads < 0:
        raise ConfigError(
            f"relevance.second_opinion_threads must be 0 (up to two) or a thread count, got "
            f"{settings.relevance.second_opinion_threads}"
        )
    url = env.get("LISTENER_DB") or settings.database.url or default_database_url(env)
    return replace(settings, database=DatabaseSettings(url=url))


def _find_config(explicit: str | os.PathLike[str] | None, env: Mapping[str, str]) -> Path | None:
    if explicit:
        return Path(explicit)
    if env.get("LISTENER_CONFIG"):
        return Path(env["LISTENER_CONFIG"])
    config_home = Path(env.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    candidate = config_home / "listener" / "listener.toml"
    return candidate if candidate.is_file() else None


def _load_section(section_cls: Any, section: str, table: dict[str, Any], env: Mapping[str, str]) -> Any:
    hints = typing.get_type_hints(section_cls)
    values: dict[str, Any] = {}
    for f in fields(section_cls):
        key = _toml_key(f.name)
        where = f"{section}.{key}"
        env_name = f"LISTENER_{section.upper()}_{key.upper()}"
        raw: Any = MISSING
        if f.metadata.get("secret"):
            if key in table:
                raise ConfigError(
                    f"{where} is a secret and cannot be written in the config file",
                    hint=f"set {env_name} or {where}_file",
                )
            if env.get(env_name):
                raw = env[env_name]
            elif f"{key}_file" in table:
                raw = _read_secret_file(Path(str(table[f"{key}_file"])), where)
        elif env_name in env:
            raw = env[env_name]
        elif key in table:
            raw = table[key]
        if raw is MISSING:
            continue
        value = _coerce(raw, hints[f.name], where)
        choices = f.metadata.get("choices")
        if choices and value not in choices:
            raise ConfigError(f"{where} must be one of {', '.join(choices)}, got {value!r}")
        values[f.name] = value
    return section_cls(**values)


def _read_secret_file(path: Path, where: str) -> str:
    try:
        return path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ConfigError(f"{where}_file: cannot read {path}: {exc.strerror}") from None


def describe_settings() -> list[tuple[str, str, Any, str, bool]]:
    """(key, env variable, default, help, secret) for every setting: the docs come from this one table."""
    rows = []
    for section_name, section_cls in SECTIONS.items():
        defaults = section_cls()
        for f in fields(section_cls):
            key = _toml_key(f.name)
            env_name = "LISTENER_DB" if section_name == "database" else f"LISTENER_{section_name.upper()}_{key.upper()}"
            rows.append(
                (f"{section_name}.{key}", env_name, getattr(defaults, f.name), f.metadata["help"], f.metadata["secret"])
            )
    return rows
