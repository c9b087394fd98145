"""Every setting in one table (``settings_table.toml``), layered: defaults < ``searchapp.toml``
< environment < options.

Each setting has a name (how the code reads it), a key in the TOML file, an environment
variable, the command-line option that sets it (if any), a default and a help text; the
table is what ``searchapp config`` prints and what the README documents, so a setting cannot
exist without them. The file is found by ``--config``, else ``$SEARCHAPP_CONFIG``, else as
``searchapp.toml`` beside the index folder (``./searchapp.toml`` for the default ``./index``).
Paths in the file are relative to the file. A bad file is a ``ConfigError`` naming the file,
the line and the key, never a traceback.
"""

from __future__ import annotations

import difflib
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: The bundled corpus: the Xinhua feature of 2022-09-26 on China's diplomacy.
BUNDLED_CORPUS = Path(__file__).parent / "corpus"
#: The synonyms used when the config has none: the bundled archive's own vocabulary.
DEFAULT_SYNONYMS_FILE = Path(__file__).parent / "synonyms.toml"
CONFIG_NAME = "searchapp.toml"
LANGUAGES = ("en", "zh")
#: Where result links point when an article has a URL: ``source`` (the original page) or
#: ``local`` (this app's article page, which keeps a "read the original" link).
LINK_TARGETS = ("source", "local")
#: ``buffered`` reads request heads in the worker's event loop (slow clients hold no thread).
WORKER_CLASSES = ("buffered", "gthread", "sync")
LOG_FORMATS = ("text", "json")


class ConfigError(ValueError):
    """A setting that cannot be used; the message names where it came from."""


@dataclass(frozen=True)
class Setting:
    """One setting: where it can come from, its default, and what it means."""

    #: Its name (``conf["workers"]``); upper case, its Flask key (``WORKERS``).
    name: str
    #: Its dotted key in searchapp.toml (``server.workers``).
    key: str
    #: How its text is read: str, int, number, bool, choice, list, path, paths, url ...
    kind: str
    #: The value when nothing sets it, or a function that makes it.
    default: Any
    #: One line for ``searchapp config`` and the README's table.
    help: str
    #: The values a ``choice`` may take.
    choices: tuple[str, ...] = ()
    #: The environment variable that sets it, and the command line option.
    env: str | None = None
    option: str | None = None
    #: The range of an ``int``.
    low: int | None = None
    high: int | None = None

    def default_value(self) -> Any:
        return self.default() if callable(self.default) else self.default


def _default_budget() -> float:
    from searchapp.budget import DEFAULT_BUDGET_MS

    return DEFAULT_BUDGET_MS


def _default_synonyms() -> dict:
    with DEFAULT_SYNONYMS_FILE.open("rb") as file:
        return tomllib.load(file)


#: The table of every setting: data (``settings_table.toml``), read once at import.
SETTINGS_TABLE = Path(__file__).parent / "settings_table.toml"
#: The sets of values the table names by ``choices_from``.
_CHOICES = {
    "LANGUAGES": LANGUAGES,
    "LINK_TARGETS": LINK_TARGETS,
    "WORKER_CLASSES": WORKER_CLASSES,
    "LOG_FORMATS": LOG_FORMATS,
}
#: The defaults the table names by ``default_from``: worked out when first needed.
_DEFAULTS_FROM = {
    "bundled_corpus": lambda: [BUNDLED_CORPUS],
    "query_budget": _default_budget,
    "synonyms": lambda: _default_synonyms()["synonyms"],
    "abbreviations": lambda: _default_synonyms()["abbreviations"],
}


def read_table(path: Path = SETTINGS_TABLE) -> tuple[Setting, ...]:
    """The settings of a table file (``[[setting]]`` entries, see its header)."""
    with path.open("rb") as file:
        rows = tomllib.load(file)["setting"]
    table = []
    for row in rows:
        row = dict(row)
        if "default_from" in row:
            row["default"] = _DEFAULTS_FROM[row.pop("default_from")]
        elif row["kind"] == "path" and isinstance(row.get("default"), str):
            row["default"] = Path(row["default"])
        row.setdefault("default", None)
        if "choices_from" in row:
            row["choices"] = _CHOICES[row.pop("choices_from")]
        table.append(Setting(**row))
    return tuple(table)


SETTINGS: tuple[Setting, ...] = read_table()
BY_NAME: dict[str, Setting] = {s.name: s for s in SETTINGS}
BY_KEY: dict[str, Setting] = {s.key: s for s in SETTINGS}
#: TOML keys that hold a whole table of the user's own words.
_TABLE_KEYS = {s.key for s in SETTINGS if s.kind in ("synonyms", "abbreviations")}


@dataclass
class Config:
    """The effective settings and, for each, where its value came from."""

    values: dict[str, Any]
    origins: dict[str, str]
    file: Path | None = None
    file_reason: str = ""
    notes: list[str] = field(default_factory=list)

    def __getitem__(self, name: str) -> Any:
        return self.values[name]

    def app_config(self) -> dict[str, Any]:
        """The settings as Flask config keys (``site_name`` -> ``SITE_NAME``)."""
        out = {name.upper(): value for name, value in self.values.items()}
        out["INDEX_DIR"] = str(self.values["index_dir"])
        out["BASE_URL"] = self.values["base_url"] or ""
        # None: the app's default (local names only, unless a base URL is set)
        out["TRUSTED_HOSTS"] = self.values["trusted_hosts"] or None
        return out

    def rows(self) -> list[tuple[str, str, str]]:
        """(key, value as shown, origin) for every setting, in the table's order."""
        return [(s.key, _shown(s, self.values[s.name]), self.origins[s.name]) for s in SETTINGS]


def _shown(setting: Setting, value: Any) -> str:
    """A secret is never printed, only whether it is set."""
    if setting.kind == "secret":
        return "(set)" if value else "(none)"
    return show(value)


def show(value: Any) -> str:
    """A value as `searchapp config` prints it."""
    if value is None:
        return "(none)"
    if isinstance(value, dict):
        return f"{len(value)} entries"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) or "(none)"
    return str(value)


def load(
    options: Mapping[str, Any] | None = None,
    config_file: Path | str | None = None,
    environ: Mapping[str, str] | None = None,
) -> Config:
    """The effective configuration: defaults < file < environment < ``options``.

    ``options`` maps setting names to command-line values (None means "not given").
    """
    environ = os.environ if environ is None else environ
    options = {k: v for k, v in (options or {}).items() if v is not None and v not in ((), [])}
    values = {s.name: s.default_value() for s in SETTINGS}
    origins = {s.name: "default" for s in SETTINGS}

    from_env: dict[str, Any] = {}
    for setting in SETTINGS:
        raw = environ.get(setting.env) if setting.env else None
        if raw is not None and raw != "":
            from_env[setting.name] = _parse(setting, raw, f"${setting.env}", None, True)

    path, reason = _find_file(options, config_file, environ, from_env)
    config = Config(values, origins, path, reason)
    if path is not None:
        for name, (value, where) in read_file(path).items():
            values[name], origins[name] = value, where
    for name, value in from_env.items():
        values[name], origins[name] = value, f"${BY_NAME[name].env}"
    for name, value in options.items():
        setting = BY_NAME[name]
        values[name] = _parse(setting, value, setting.option or name, None, False)
        origins[name] = f"option {setting.option or name}"
    return config


def _find_file(options, config_file, environ, from_env) -> tuple[Path | None, str]:
    if config_file is not None:
        return _must_exist(Path(config_file), "--config"), "--config"
    if environ.get("SEARCHAPP_CONFIG"):
        return _must_exist(Path(environ["SEARCHAPP_CONFIG"]), "$SEARCHAPP_CONFIG"), (
            "$SEARCHAPP_CONFIG"
        )
    index_dir = Path(options.get("index_dir") or from_env.get("index_dir") or "index")
    beside = index_dir.absolute().parent / CONFIG_NAME
    if beside.is_file():
        return beside, "found beside the index folder"
    return None, ""


def _must_exist(path: Path, how: str) -> Path:
    if not path.is_file():
        raise ConfigError(f"config file {path} (from {how}) does not exist")
    return path


def read_file(path: Path) -> dict[str, tuple[Any, str]]:
    """Setting name -> (value, "file:line") for every setting the file sets."""
    try:
        text = path.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read the config file: {exc}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    found: dict[str, tuple[Any, str]] = {}
    base = path.absolute().parent
    for key, value in _flatten(data):
        where = f"{path}:{_line_of(text, key)}"
        setting = BY_KEY.get(key)
        if setting is None:
            close = difflib.get_close_matches(key, list(BY_KEY), n=1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            raise ConfigError(f"{where}: unknown setting {key}{hint}")
        found[setting.name] = (_parse(setting, value, where, base, False), where)
    return found


def _flatten(data: dict, prefix: str = ""):
    for key, value in data.items():
        full = f"{prefix}{key}"
        if isinstance(value, dict) and full not in _TABLE_KEYS:
            yield from _flatten(value, full + ".")
        else:
            yield full, value


def _line_of(text: str, key: str) -> int:
    """The line of ``key`` (``section.name``) in the file, or of its table (best effort)."""
    *tables, name = key.split(".")
    table = ".".join(tables)
    current = ""
    name_re = re.compile(rf"""^\s*(?:{re.escape(name)}|["']{re.escape(name)}["'])\s*=""")
    for number, line in enumerate(text.splitlines(), 1):
        header = re.match(r"^\s*\[\s*([^\]]+?)\s*\]", line)
        if header:
            current = header.group(1).replace(" ", "")
            if current == key:
                return number
            continue
        if current == table and name_re.match(line):
            return number
        if not table and not current and name_re.match(line):
            return number
    return 1


def _number_from_text(value: Any, cast, error) -> Any:
    """``value`` as a number if it is text (an environment variable, an option); ``error()``
    makes the ConfigError to raise when it is not one."""
    if not isinstance(value, str):
        return value
    try:
        return cast(value.strip())
    except ValueError:
        raise error() from None


def _parse(setting: Setting, value: Any, where: str, base: Path | None, from_text: bool) -> Any:
    """Check and convert one value; ``from_text`` for environment variables (strings)."""

    def bad(expected: str) -> ConfigError:
        return ConfigError(f"{where}: {setting.key} must be {expected}; got {value!r}")

    kind = setting.kind
    if kind == "bool":
        if from_text and isinstance(value, str):
            words = {"1": True, "true": True, "yes": True, "on": True}
            words.update({"0": False, "false": False, "no": False, "off": False})
            if value.strip().lower() not in words:
                raise bad("1 or 0 (true or false)")
            return words[value.strip().lower()]
        if not isinstance(value, bool):
            raise bad("true or false")
        return value
    if kind in ("str", "url", "choice", "secret"):
        if not isinstance(value, str):
            raise bad("a string")
        value = value.strip()
        if kind == "choice" and value not in setting.choices:
            raise bad(" or ".join(setting.choices))
        if kind == "url" and not re.match(r"^https?://[^/\s]+", value):
            raise bad("an http:// or https:// URL")
        return value
    if kind == "int":
        if from_text:
            value = _number_from_text(value, int, lambda: bad("a whole number"))
        if not isinstance(value, int) or isinstance(value, bool):
            raise bad("a whole number")
        if not (setting.low or 0) <= value <= (setting.high or value):
            raise bad(f"from {setting.low} to {setting.high}")
        return value
    if kind == "number":
        if from_text:
            value = _number_from_text(value, float, lambda: bad("a number"))
        if not isinstance(value, int | float) or isinstance(value, bool) or value < 0:
            raise bad("a number, 0 or more")
        return float(value)
    if kind == "path":
        if not isinstance(value, str | Path) or not str(value).strip():
            raise bad("a path")
        return _resolve(value, base)
    if kind == "paths":
        items = _as_list(value, os.pathsep if from_text else None)
        if items is None or not items:
            raise bad("a list of paths")
        return [_resolve(item, base) for item in items]
    if kind == "list":
        items = _as_list(value, "," if from_text else None)
        if items is None:
            raise bad("a list of strings")
        return [item for item in items if item]
    if kind == "origins":
        items = _as_list(value, ",")
        if items is None:
            raise bad('"*" or a list of origins')
        return "*" if "*" in items else ",".join(items)
    if kind == "synonyms":
        if not isinstance(value, dict) or not all(
            isinstance(v, list) and all(isinstance(x, str) for x in v) for v in value.values()
        ):
            raise bad('a table of word = ["what it also matches", ...]')
        return {str(k): list(v) for k, v in value.items()}
    if kind == "abbreviations":
        if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
            raise bad('a table of "multi-word name" = "ABBR"')
        return {str(k).lower(): v for k, v in value.items()}
    raise AssertionError(f"unknown kind {kind}")


def _as_list(value: Any, separator: str | None) -> list[str] | None:
    if isinstance(value, str | Path):
        value = str(value).split(separator) if separator else [value]
    if isinstance(value, list | tuple) and all(isinstance(v, str | Path) for v in value):
        return [str(v).strip() for v in value if str(v).strip()]
    return None


def _resolve(value: str | Path, base: Path | None) -> Path:
    """A path from the file is relative to the file; from elsewhere, to the current folder."""
    path = Path(value).expanduser()
    return path if path.is_absolute() or base is None else base / path


# The functions the rest of the code called before the file existed: the effective value of
# one setting (file and environment included; the command line passes its own).


def default_source_dir() -> Path:
    """The first source folder: ``$SEARCHAPP_SOURCE``, the config file, or the bundled corpus."""
    return load()["sources"][0]


def default_index_dir() -> Path:
    """``$SEARCHAPP_INDEX``, the config file, or ``./index`` in the current folder."""
    return load()["index_dir"]


def cors_origins() -> str:
    """Origins allowed to call the API (``*`` or a comma-separated list)."""
    return load()["cors_origins"]


def links_setting() -> str:
    """Where result links point when an article has a URL: ``source`` or ``local``."""
    return load()["links"]


def query_budget_ms() -> float:
    """The longest one search may take (milliseconds; 0: no limit)."""
    return load()["query_budget_ms"]


def base_url() -> str:
    """The public address of the site (for absolute links), or ``""``."""
    return load()["base_url"] or ""


def trusted_hosts() -> list[str]:
    """Host names the server answers to (empty: the default)."""
    return load()["trusted_hosts"]


def rate_limit() -> str:
    """Requests per client, like ``60/minute`` (``""``: no limit)."""
    return load()["rate_limit"]
