"""Questions limited by publication date or outlet (`Assistant.ask(since=, until=, outlet=)`, `askbalkans
ask --since/--until/--outlet`), in both stores."""

from __future__ import annotations

import datetime as dt

import pytest

from askbalkans import Assistant
from askbalkans.cli import main
from askbalkans.errors import SettingError
from askbalkans.retriever import ArticleFilter
from askbalkans.stores.milvus import MilvusStore
from documents import FACTS

pytestmark = pytest.mark.e2e

RAILWAY = FACTS["railway.pdf"]  # the PDF's date: 2025-03-02
RESERVOIR = FACTS["reservoir.html"]  # the page's date: 2025-03-14, outlet Balkan Monitor


@pytest.fixture(scope="module")
def milvus_mixed(milvus_uri, mixed_corpus, embedder, mixed_assistant) -> Assistant:
    store = MilvusStore(milvus_uri, "mixed")
    return Assistant(corpus_dir=mixed_corpus, store=store, embedder=embedder, tagger=mixed_assistant.tagger)


@pytest.fixture(params=["embedded", "milvus"])
def assistant(request, mixed_assistant) -> Assistant:
    return mixed_assistant if request.param == "embedded" else request.getfixturevalue("milvus_mixed")


def cited(answer) -> set[str]:
    return {citation.doc_id for citation in answer.citations}


def test_a_date_range_keeps_to_the_articles_published_in_it(assistant):
    assert "railway" in cited(assistant.ask(RAILWAY.question, since=dt.date(2025, 3, 2), until=dt.date(2025, 3, 2)))
    later = assistant.ask(RAILWAY.question, since=dt.date(2025, 3, 3))
    assert "railway" not in cited(later) and cited(later) <= {"reservoir"}  # the only article dated after
    assert "Only articles published from 2025-03-03." in later.notices


def test_an_outlet_keeps_to_its_articles(assistant):
    answer = assistant.ask(RESERVOIR.question, outlet="balkan monitor")
    assert RESERVOIR.answer in answer.lead.text and cited(answer) == {"reservoir"}
    assert cited(assistant.ask(RAILWAY.question, outlet="Balkan Monitor")) <= {"reservoir"}


def test_a_filter_no_article_meets_says_so_and_what_there_is(assistant):
    answer = assistant.ask(RAILWAY.question, outlet="Nobody's Gazette")
    assert answer.abstained and not answer.citations
    assert answer.text.startswith("No article in the corpus is by an outlet named like “Nobody's Gazette”.")
    assert "Balkan Monitor" in answer.text and "RKS NEWS" in answer.text and "2025-02-07 to 2025-03-14" in answer.text


def test_the_same_filter_gives_the_same_answer_in_both_stores(mixed_assistant, milvus_mixed):
    for options in ({"until": dt.date(2025, 3, 10)}, {"outlet": "rks"}):
        embedded, milvus = (
            a.ask("What did NATO say about the Western Balkans?", **options) for a in (mixed_assistant, milvus_mixed)
        )
        assert embedded.text == milvus.text


def test_bad_filters_are_clear_errors(mixed_assistant, capsys):
    with pytest.raises(SettingError, match=r"since \(2025-03-05\) is after until \(2025-03-01\)"):
        mixed_assistant.ask("KFOR?", since=dt.date(2025, 3, 5), until=dt.date(2025, 3, 1))
    with pytest.raises(TypeError, match="since must be a datetime.date"):
        ArticleFilter(since="2025-01-01")  # type: ignore[arg-type]
    with pytest.raises(SystemExit):
        main(["ask", "KFOR?", "--since", "March 2025"])
    assert "not a date in the form YYYY-MM-DD: 'March 2025'" in capsys.readouterr().err


def test_the_command_line_takes_the_filters(mixed_corpus, tmp_path, capsys):
    arguments = ["ask", RAILWAY.question, "--corpus", str(mixed_corpus), "--index", str(tmp_path / "index")]
    assert main([*arguments, "--until", "2025-03-02", "--outlet", ""]) == 0
    assert "520 million euros" in capsys.readouterr().out
    assert main([*arguments, "--outlet", "RKS NEWS"]) == 0
    assert "520 million euros" not in capsys.readouterr().out
