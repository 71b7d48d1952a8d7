from pathlib import Path

import pytest

from askbalkans.config import PROJECT_ROOT, Settings, environment, load_fitted_weights
from askbalkans.errors import SettingError
from askbalkans.scoring import EVIDENCE


def test_defaults_point_at_the_project_and_the_fingerprint_is_the_index_settings():
    settings = Settings()
    assert settings.corpus_dir == PROJECT_ROOT / "seeds"
    assert settings.index_dir == PROJECT_ROOT / "index"
    assert settings.index_fingerprint() == {
        "model": "sentence-transformers/all-MiniLM-L6-v2",
        "passage_tokens": 160,
        "passage_overlap_tokens": 40,
    }


def test_environment_then_overrides(tmp_path):
    environ = {"ASKBALKANS_CORPUS": str(tmp_path), "ASKBALKANS_TOP_K": "8", "ASKBALKANS_ABSTAIN_THRESHOLD": "0.3"}
    settings = Settings.from_env(environ, top_k=3, model=None)
    assert settings.corpus_dir == Path(tmp_path)
    assert settings.top_k == 3  # an override beats the environment
    assert settings.abstain_threshold == 0.3
    assert settings.model == Settings().model  # None leaves the default
    assert Settings.from_env(environ).top_k == 8


def test_every_variable_is_named_after_its_setting():
    assert all(
        variable == f"ASKBALKANS_{name.upper()}" or name.endswith("_dir") for name, variable in environment().items()
    )
    assert environment()["corpus_dir"] == "ASKBALKANS_CORPUS"


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"ASKBALKANS_TOP_K": "five"}, "ASKBALKANS_TOP_K='five': must be a whole number"),
        ({"ASKBALKANS_TOP_K": "0"}, "ASKBALKANS_TOP_K='0': top_k must be from 1 to 100"),
        ({"ASKBALKANS_ABSTAIN_THRESHOLD": "7"}, "abstain_threshold must be from 0 to 1"),
        ({"ASKBALKANS_DENSE_WEIGHT": "nan"}, "dense_weight must be a number from 0 to 100"),
        ({"ASKBALKANS_STORE": "oracle"}, "store must be one of embedded"),
    ],
)
def test_an_invalid_variable_fails_at_start_naming_it_and_the_range(environ, message):
    with pytest.raises(SettingError, match=message):
        Settings.from_env(environ)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"top_k": -3}, "top_k must be from 1 to 100, got -3"),
        ({"top_k": 2.5}, "top_k must be a whole number from 1 to 100, got 2.5"),
        ({"top_k": "5"}, "top_k must be a whole number"),
        ({"top_k": True}, "top_k must be a whole number"),
        ({"abstain_threshold": 7}, "abstain_threshold must be from 0 to 1"),
        ({"corpus_dir": 5}, "corpus_dir must be a folder path"),
        ({"model": ""}, "model must be a non-empty string"),
        ({"passage_tokens": 40, "passage_overlap_tokens": 40}, "passage_overlap_tokens .* must be smaller"),
        ({"sentence_weights": {"dense": "high"}}, "sentence_weights must map evidence names to numbers"),
    ],
)
def test_invalid_values_are_refused_naming_the_setting(values, message):
    with pytest.raises(SettingError, match=message):
        Settings(**values)


def test_fitted_weights_come_from_the_data_file_and_name_every_piece_of_evidence():
    fitted = load_fitted_weights()
    settings = Settings()
    assert settings.sentence_weights == fitted["sentence_weights"]
    assert settings.abstain_threshold == fitted["abstain_threshold"]
    assert set(fitted["sentence_weights"]) == set(fitted["confidence_weights"]) == set(EVIDENCE)
