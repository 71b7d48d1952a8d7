import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from askbalkans.cli import main


@pytest.mark.e2e  # the whole pipeline, from the command line
def test_ask_prints_the_answer_with_its_sources(tmp_path, capsys):
    assert main(["ask", "Who is NATO's Deputy Secretary General?", "--index", str(tmp_path / "index")]) == 0
    printed = capsys.readouterr().out
    assert "Radmila Shekerinska" in printed and "[1]" in printed
    assert "004_e76711d46be13724, characters" in printed


@pytest.mark.e2e  # the whole pipeline, from the command line
def test_ask_json_is_the_whole_answer(tmp_path, capsys):
    assert (
        main(
            [
                "ask",
                "How",
                "many",
                "troops",
                "serve",
                "in",
                "KFOR?",
                "--json",
                "--top-k",
                "3",
                "--index",
                str(tmp_path / "index"),
            ]
        )
        == 0
    )
    answer = json.loads(capsys.readouterr().out)
    assert answer["question"] == "How many troops serve in KFOR?"
    assert answer["citations"] and not answer["abstained"]


@pytest.mark.e2e  # the whole pipeline, from the command line
def test_index_builds_then_reports_up_to_date(corpus_copy, tmp_path, capsys):
    (corpus_copy / "broken.txt").write_bytes(b"\xff\xfe not text")
    arguments = ["index", "--corpus", str(corpus_copy), "--index", str(tmp_path / "index")]
    assert main(arguments) == 0
    first = capsys.readouterr().out
    assert "rebuilt the index" in first and "skipped" in first and "broken.txt" in first
    assert main(arguments) == 0
    assert "loaded the index of 5 articles" in capsys.readouterr().out
    (corpus_copy / "000_c156d69eb00ff29e.txt").unlink()
    (corpus_copy / "extra.md").write_text("# Extra\n\nA new bridge opened in Mitrovica in 2031.\n", "utf-8")
    assert main(arguments) == 0
    printed = capsys.readouterr().out.splitlines()
    assert "added extra" in printed and "removed 000_c156d69eb00ff29e" in printed  # each, on a line of its own
    assert "added 1 (extra), removed 1 (000_c156d69eb00ff29e)" in printed[-1]
    assert main([*arguments, "--rebuild"]) == 0
    assert "a rebuild was requested" in capsys.readouterr().out


def test_a_missing_corpus_is_a_clear_error(tmp_path, capsys):
    assert main(["index", "--corpus", str(tmp_path / "nowhere"), "--index", str(tmp_path / "index")]) == 2
    assert "corpus folder not found" in capsys.readouterr().err


def test_a_bad_setting_is_a_clear_error(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("ASKBALKANS_TOP_K", "five")
    assert main(["ask", "KFOR?", "--index", str(tmp_path / "index")]) == 2
    assert "ASKBALKANS_TOP_K='five'" in capsys.readouterr().err


def test_an_internal_error_keeps_its_traceback(monkeypatch):
    def broken(args):
        raise ValueError("a bug, not the user's mistake")

    monkeypatch.setattr("askbalkans.cli.cmd_ask", broken)
    with pytest.raises(ValueError, match="a bug"):
        main(["ask", "KFOR?"])


def test_the_console_script_is_installed_and_its_help_loads_no_model_library():
    script = Path(sys.executable).parent / "askbalkans"
    assert shutil.which(str(script))
    result = subprocess.run([str(script), "--help"], capture_output=True, text=True, check=True)
    assert "ask" in result.stdout and "serve" in result.stdout and "eval" in result.stdout
    probe = "import sys; from askbalkans.cli import build_parser; build_parser(); print(sorted(sys.modules))"
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    for heavy in ("faiss", "torch", "sentence_transformers", "gradio", "scipy", "bm25s"):
        assert f"'{heavy}'" not in loaded
