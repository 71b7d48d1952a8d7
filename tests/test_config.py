from pathlib import Path

from askbalkans.config import PROJECT_ROOT, Settings


def test_defaults_point_at_the_project():
    settings = Settings()
    assert settings.corpus_dir == PROJECT_ROOT / "seeds"
    assert settings.index_dir == PROJECT_ROOT / "index"
    assert settings.index_fingerprint() == {
        "model": "sentence-transformers/all-MiniLM-L6-v2",
        "passage_tokens": 160,
        "passage_overlap_tokens": 40,
    }


def test_environment_then_overrides(monkeypatch, tmp_path):
    monkeypatch.setenv("ASKBALKANS_CORPUS", str(tmp_path))
    monkeypatch.setenv("ASKBALKANS_TOP_K", "8")
    monkeypatch.setenv("ASKBALKANS_ABSTAIN_THRESHOLD", "0.3")
    settings = Settings.from_env(top_k=3, model=None)
    assert settings.corpus_dir == Path(tmp_path)
    assert settings.top_k == 3  # an override beats the environment
    assert settings.abstain_threshold == 0.3
    assert settings.model == Settings().model  # None leaves the default
