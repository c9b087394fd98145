"""Settings: one table, layered defaults < searchapp.toml < environment < options.

Also what the settings change: the site's name, logo, examples and templates, and the
synonyms that a new index run records for its searchers.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from click.testing import CliRunner

from searchapp import config
from searchapp.cli import main
from searchapp.config import SETTINGS, ConfigError, load
from searchapp.indexing import build_index
from searchapp.searching import search
from searchapp.synonyms import Synonyms, default_synonyms
from searchapp.web import create_app
from tests.conftest import ROOT

LOGO = """<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32">
<circle cx="16" cy="16" r="14" fill="#0a7"/></svg>"""

SITE_TOML = """\
[site]
name = "Harbourside Archive"
logo = "logo.svg"
base_url = "https://news.example.org/search/"
language = "zh"          # interface language: en | zh
links = "source"
examples = ["typhoon", "夜市"]

[index]
path = "index"                       # relative to this file
sources = ["public", "exports"]
"""


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, "utf-8")
    return path


def test_defaults_without_a_file(tmp_path):
    conf = load(environ={}, options={"index_dir": tmp_path / "index"})
    assert conf.file is None
    assert conf["site_name"] == "searchapp" and conf.origins["site_name"] == "default"
    assert conf["sources"] == [config.BUNDLED_CORPUS]
    assert conf["synonyms"]["bri"] == ["Belt and Road"]


def test_the_file_beside_the_index_and_paths_relative_to_it(tmp_path, monkeypatch):
    site = tmp_path / "site"
    write(site / "searchapp.toml", SITE_TOML)
    monkeypatch.chdir(tmp_path)  # the file's paths do not depend on the current folder
    conf = load(environ={}, options={"index_dir": site / "index"})
    assert conf.file == site / "searchapp.toml"
    assert conf.file_reason == "found beside the index folder"
    assert conf["site_name"] == "Harbourside Archive"
    assert conf.origins["site_name"] == f"{site / 'searchapp.toml'}:2"
    assert conf["logo"] == site / "logo.svg"
    assert conf["sources"] == [site / "public", site / "exports"]
    assert conf["language"] == "zh" and conf["links"] == "source"
    assert conf["examples"] == ["typhoon", "夜市"]
    assert conf.origins["examples"].endswith(":7")


def test_environment_overrides_the_file_and_options_override_both(tmp_path):
    toml = write(tmp_path / "conf.toml", SITE_TOML)
    env = {"SEARCHAPP_CONFIG": str(toml), "SEARCHAPP_SITE_NAME": "From Env",
           "SEARCHAPP_LANGUAGE": "en", "SEARCHAPP_EXAMPLES": "a, b"}  # fmt: skip
    conf = load(environ=env)
    assert conf.file == toml
    assert (conf["site_name"], conf.origins["site_name"]) == ("From Env", "$SEARCHAPP_SITE_NAME")
    assert conf["examples"] == ["a", "b"]
    assert conf["index_dir"] == tmp_path / "index"  # still from the file
    conf = load(environ=env, options={"language": "zh", "index_dir": Path("elsewhere")})
    assert (conf["language"], conf.origins["language"]) == ("zh", "option --language")
    assert conf["index_dir"] == Path("elsewhere")  # relative to the current folder


@pytest.mark.parametrize(
    "text, expected",
    [
        ("[site]\nname = \n", r"conf\.toml: not valid TOML: .*line 2"),
        ("[site]\nname = 'x'\nlanguage = 'fr'\n", r"conf\.toml:3: site\.language must be en or zh"),
        ("[site]\nnmae = 'x'\n", r"toml:2: unknown setting site\.nmae .did you mean site\.name"),
        ("[server]\nport = 'eighty'\n", r"conf\.toml:2: server\.port must be a whole number"),
        ("[site]\nbase_url = 'example.org'\n", r"conf\.toml:2: site\.base_url must be an http"),
        ("[index]\nsources = 7\n", r"conf\.toml:2: index\.sources must be a list of paths"),
        ("[synonyms]\nbri = 'Belt and Road'\n", r"conf\.toml:1: synonyms must be a table"),
    ],
)  # fmt: skip
def test_a_bad_file_names_file_line_and_key(tmp_path, text, expected):
    toml = write(tmp_path / "conf.toml", text)
    with pytest.raises(ConfigError, match=expected):
        load(environ={}, config_file=toml)
    # the command line says the same, with no traceback
    result = CliRunner().invoke(main, ["config", "--config", str(toml)])
    assert result.exit_code == 1
    assert re.search(expected, result.output) and "Traceback" not in result.output


def test_bad_environment_values_and_missing_files_are_clear(tmp_path):
    with pytest.raises(ConfigError, match=r"\$SEARCHAPP_PORT: server.port must be a whole"):
        load(environ={"SEARCHAPP_PORT": "x"})
    with pytest.raises(ConfigError, match="does not exist"):
        load(environ={"SEARCHAPP_CONFIG": str(tmp_path / "missing.toml")})
    result = CliRunner().invoke(main, ["stats", "--config", str(tmp_path / "nope.toml")])
    assert result.exit_code == 1 and "does not exist" in result.output


def test_searchapp_config_prints_values_and_where_they_came_from(tmp_path):
    toml = write(tmp_path / "searchapp.toml", SITE_TOML)
    env = {"SEARCHAPP_CORS_ORIGINS": "https://a.example, https://b.example"}
    result = CliRunner().invoke(
        main, ["config", "--index", str(tmp_path / "index")], env=env, catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    lines = {line.split()[0]: line for line in result.output.splitlines()[2:]}
    assert set(lines) == {s.key for s in SETTINGS}
    assert "Harbourside Archive" in lines["site.name"] and f"{toml}:2" in lines["site.name"]
    assert "$SEARCHAPP_CORS_ORIGINS" in lines["api.cors_origins"]
    assert "option --index" in lines["index.path"]
    assert lines["server.port"].split()[1:] == ["8000", "default"]
    assert result.output.startswith(f"config file: {toml} (found beside the index folder)")
    body = json.loads(CliRunner().invoke(main, ["config", "--config", str(toml), "--json"]).output)
    assert body["settings"]["site.examples"] == {"value": ["typhoon", "夜市"], "from": f"{toml}:7"}


def test_every_setting_is_documented_in_the_readme():
    readme = (ROOT / "README.md").read_text("utf-8")
    for setting in SETTINGS:
        assert f"`{setting.key}`" in readme, f"README does not document {setting.key}"
        if setting.env:
            assert setting.env in readme, f"README does not name {setting.env}"


def test_site_name_logo_and_examples_from_the_config(tmp_path, index_dir):
    write(tmp_path / "logo.svg", LOGO)
    toml = write(tmp_path / "searchapp.toml", SITE_TOML.replace('language = "zh"', ""))
    conf = load(environ={}, config_file=toml)
    app = create_app({**conf.app_config(), "INDEX_DIR": str(index_dir), "TESTING": True})
    client = app.test_client()
    html = client.get("/").get_data(as_text=True)
    assert "<title>Harbourside Archive</title>" in html
    assert '<span class="brand-name">Harbourside Archive</span>' in html
    assert '<img class="brand-logo" src="/site-logo"' in html
    chips = re.findall(r'class="chip" href="([^"]+)">([^<]+)<', html)
    assert [text for _, text in chips] == ["typhoon", "夜市"]
    logo = client.get("/site-logo")
    assert logo.status_code == 200 and logo.mimetype == "image/svg+xml"
    assert logo.data.decode() == LOGO
    assert "default-src 'none'" in logo.headers["Content-Security-Policy"]
    logo.close()
    root = ET.fromstring(client.get("/opensearch.xml").data)
    ns = {"os": "http://a9.com/-/spec/opensearch/1.1/"}
    assert root.find("os:LongName", ns).text == "Harbourside Archive"
    assert root.find("os:ShortName", ns).text == "Harbourside Arch"  # 16 characters at most
    assert root.find("os:Query", ns).get("searchTerms") == "typhoon"
    images = {i.get("type"): i.text for i in root.findall("os:Image", ns)}
    assert images["image/svg+xml"] == "https://news.example.org/search/site-logo"  # base_url
    script = client.get("/embed.js").get_data(as_text=True)
    assert '"name": "Harbourside Archive", "logo": true' in script
    # without a logo there is no logo route
    plain = create_app({"INDEX_DIR": str(index_dir), "TESTING": True}).test_client()
    assert plain.get("/site-logo").status_code == 404
    assert "brand-logo" not in plain.get("/").get_data(as_text=True)


def test_a_template_folder_overrides_any_template(tmp_path, index_dir):
    templates = tmp_path / "templates"
    write(templates / "error.html", '{% extends "base.html" %}{% block main %}'
          "<p class=custom>Our own {{ status }} page</p>{% endblock %}")  # fmt: skip
    app = create_app({"INDEX_DIR": str(index_dir), "TESTING": True, "TEMPLATE_DIR": templates})
    client = app.test_client()
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert "<p class=custom>Our own 404 page</p>" in response.get_data(as_text=True)
    # the templates it does not override are the built-in ones
    assert 'id="results-area"' in client.get("/").get_data(as_text=True)
    result = CliRunner().invoke(main, ["serve", "--template-dir", str(tmp_path / "missing")])
    assert result.exit_code == 2 and "does not exist" in result.output


def test_a_change_of_synonyms_takes_effect_at_the_next_index_run(tmp_path, corpus_dir):
    index = tmp_path / "index"
    build_index([corpus_dir], index)
    assert search(index, "harbour")["total"] == 0
    toml = write(tmp_path / "searchapp.toml", '[synonyms]\nharbour = ["port of Gwadar"]\n')
    assert load(environ={}, options={"index_dir": index})["synonyms"] == {
        "harbour": ["port of Gwadar"]
    }
    # the running searcher keeps the build's synonyms until an index run records new ones
    result = CliRunner().invoke(main, ["index", "--index", str(index), "--source", str(corpus_dir)])
    assert result.exit_code == 0, result.output
    assert "synonyms changed" in result.output
    found = search(index, "harbour")
    assert found["total"] == 1 and "port</mark> of <mark>Gwadar" in found["hits"][0]["snippet"]
    assert search(index, "BRI")["total"] == 0  # the file's list replaces the built-in one
    # unchanged synonyms: nothing to do
    result = CliRunner().invoke(main, ["index", "--index", str(index), "--source", str(corpus_dir)])
    assert "Index is up to date" in result.output
    toml.unlink()
    result = CliRunner().invoke(main, ["index", "--index", str(index), "--source", str(corpus_dir)])
    assert "synonyms changed" in result.output and search(index, "BRI")["total"] > 0


def test_synonyms_round_trip_as_data():
    data = default_synonyms().as_data()
    assert Synonyms.from_data(json.loads(json.dumps(data))).as_data() == data
    assert Synonyms.from_data(None) is default_synonyms()
    custom = Synonyms({"BRI": ["Belt and Road"]}, {"Belt and Road": "BRI"})
    assert custom.as_data() == {
        "synonyms": {"bri": ["Belt and Road"]},
        "abbreviations": {"belt and road": "BRI"},
    }
    assert custom.expand_phrases("the belt and road") == 'the ("belt and road" OR BRI)'


def test_the_readme_example_is_a_valid_config(tmp_path):
    readme = (ROOT / "README.md").read_text("utf-8")
    example = re.search(r"```toml\n(.*?)```", readme, re.S).group(1)
    conf = load(environ={}, config_file=write(tmp_path / "searchapp.toml", example))
    assert conf["site_name"] == "Harbourside Archive" and conf["language"] == "zh"
    assert conf["sources"] == [tmp_path / "public", tmp_path / "exports/cms"]
    assert conf["cors_origins"] == "https://news.example.org"
    assert conf["synonyms"] == {"typhoon": ["tropical cyclone", "台风"], "夜市": ["night market"]}


def test_the_app_reads_the_file_beside_the_index_it_serves(tmp_path, index_dir):
    site = tmp_path / "site"
    site.mkdir()
    (site / "index").symlink_to(index_dir, target_is_directory=True)
    write(site / "searchapp.toml", '[site]\nname = "Beside The Index"\n')
    app = create_app({"INDEX_DIR": str(site / "index"), "TESTING": True})
    assert "<title>Beside The Index</title>" in app.test_client().get("/").get_data(as_text=True)


def test_pages_tell_the_scripts_where_the_app_is_mounted(client):
    """Under a prefix (SCRIPT_NAME, as a proxy sets it) every URL the scripts use has it."""
    html = client.get("/", base_url="http://localhost/search").get_data(as_text=True)
    assert 'data-search-url="/search/search"' in html
    assert 'data-api-search="/search/api/search"' in html
    assert 'data-api-suggest="/search/api/suggest"' in html
    assert 'data-articles="/search/articles/"' in html
    assert 'src="/search/static/app.js"' in html
    assert 'action="/search/search"' in html
