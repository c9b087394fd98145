"""The searchapp command: index, search, stats (serve is tested against a live server)."""

from __future__ import annotations

import json
import shutil
import subprocess

from click.testing import CliRunner

from searchapp.cli import main
from searchapp.config import BUNDLED_CORPUS
from tests.conftest import FIXTURE_ARTICLES, copy_sources


def run(*args, env=None):
    result = CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)
    return result


def test_index_then_search_gwadar_json(tmp_path):
    ix = str(tmp_path / "ix")
    result = run("index", "--index", ix)
    assert result.exit_code == 0, result.output
    assert "1 articles, 61 chunks" in result.output
    result = run("search", "Gwadar", "--index", ix, "--json")
    body = json.loads(result.output)
    first = body["hits"][0]
    assert first["kind"] == "caption"
    assert first["photographer"] == "Ahmed Kamal" and first["photo_date"] == "2018-01-29"
    assert first["section"] == "Guiding the direction for the future and destiny of mankind"
    assert set(body) >= {"query", "suggestion", "total", "hits", "facets"}


def test_search_json_is_the_api_json(tmp_path, client, index_dir):
    result = run("search", "中老铁路", "--index", str(index_dir), "--json")
    cli = json.loads(result.output)
    api = client.get("/api/search?q=中老铁路").get_json()
    cli.pop("took_ms"), api.pop("took_ms")
    assert cli == api


def test_phrase_queries_in_both_languages(index_dir):
    result = run("search", '"shared future"', "--index", str(index_dir))
    assert result.exit_code == 0 and "[shared] [future]" in result.output.lower()
    result = run("search", '"国际旅客列车"', "--index", str(index_dir))
    assert result.exit_code == 0 and "[国际旅客列车]" in result.output.replace("][", "")


def test_search_kind_filter_and_no_results(index_dir):
    result = run("search", "railway", "--kind", "caption", "--index", str(index_dir))
    assert "[caption]" in result.output and "[paragraph]" not in result.output
    result = run("search", "xyzzyplugh", "--index", str(index_dir))
    assert "No results" in result.output


def test_second_index_run_says_nothing_changed(tmp_path):
    src = copy_sources(tmp_path / "src", BUNDLED_CORPUS, FIXTURE_ARTICLES)
    ix = str(tmp_path / "ix")
    run("index", "--source", str(src), "--index", ix)
    result = run("index", "--source", str(src), "--index", ix)
    assert "nothing changed" in result.output


def test_rebuild_and_incremental_give_same_stats(tmp_path):
    src = copy_sources(tmp_path / "src", BUNDLED_CORPUS)
    ix = str(tmp_path / "ix")
    run("index", "--source", str(src), "--index", ix)
    shutil.copy(FIXTURE_ARTICLES / "2024-01-15-mixed-bilingual.txt", src)
    run("index", "--source", str(src), "--index", ix)
    incremental = json.loads(run("stats", "--index", ix, "--json").output)
    run("index", "--source", str(src), "--index", ix, "--rebuild")
    rebuilt = json.loads(run("stats", "--index", ix, "--json").output)
    assert incremental == rebuilt
    assert rebuilt["articles"] == 2 and set(rebuilt["by_language"]) == {"en", "zh"}
    assert set(rebuilt) == {"articles", "chunks", "by_kind", "by_language"}


def test_env_variables_choose_folders(tmp_path):
    src = copy_sources(tmp_path / "src", FIXTURE_ARTICLES)
    env = {"SEARCHAPP_SOURCE": str(src), "SEARCHAPP_INDEX": str(tmp_path / "ix")}
    result = run("index", env=env)
    assert "3 articles" in result.output
    assert json.loads(run("stats", "--json", env=env).output)["articles"] == 3


def test_user_mistakes_exit_cleanly(tmp_path):
    result = CliRunner().invoke(
        main, ["index", "--source", str(tmp_path / "nope"), "--index", str(tmp_path / "ix")]
    )
    assert result.exit_code == 1 and "does not exist" in result.output
    assert "Traceback" not in result.output
    result = CliRunner().invoke(main, ["search", "x", "--index", str(tmp_path / "none")])
    assert result.exit_code == 1 and "searchapp index" in result.output
    result = CliRunner().invoke(main, ["stats", "--index", str(tmp_path / "none")])
    assert result.exit_code == 1


def test_console_script_is_installed(tmp_path):
    out = subprocess.run(
        ["searchapp", "stats", "--index", str(tmp_path / "none")], capture_output=True, text=True
    )
    assert out.returncode == 1 and "Error: no index" in out.stderr
    assert "Traceback" not in out.stderr


def test_serve_on_a_busy_port_says_so(tmp_path):
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        out = subprocess.run(
            ["searchapp", "serve", "--index", str(tmp_path / "ix"), "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=30,
        )
    assert out.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in out.stderr and "--port" in out.stderr
    assert "Traceback" not in out.stderr


def test_changed_ranking_settings_rebuild_and_say_why(tmp_path):
    from searchapp import settings
    from searchapp.indexing import current_build, read_manifest

    src = copy_sources(tmp_path / "src", BUNDLED_CORPUS)
    ix = tmp_path / "ix"
    run("index", "--source", str(src), "--index", str(ix))
    recorded = read_manifest(current_build(ix))["settings"]
    assert recorded["fingerprint"] == settings.current().fingerprint()
    assert recorded["values"]["kind_boosts"] == {"heading": 1.5, "title": 4.0}

    retuned = settings.variant(kind_boosts={"title": 2.0, "heading": 1.5}, bm25_b=0.5)
    with settings.use(retuned):
        result = run("index", "--source", str(src), "--index", str(ix))
        assert "ranking settings changed (bm25_b, kind_boosts): rebuilding everything" in (
            result.output
        )
        manifest = read_manifest(current_build(ix))
        assert manifest["settings"]["fingerprint"] == retuned.fingerprint()
        assert manifest["settings"]["values"]["kind_boosts"]["title"] == 2.0
        assert "nothing changed" in run("index", "--source", str(src), "--index", str(ix)).output
    assert settings.current() is settings.DEFAULT
    result = run("index", "--source", str(src), "--index", str(ix))
    assert "ranking settings changed (bm25_b, kind_boosts)" in result.output
