import dataclasses

import pytest
import torch

from trustml.core.budget import BUDGETS, budget_name, get_budget
from trustml.core.device import get_device


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch):
    monkeypatch.delenv("TRUSTML_BUDGET", raising=False)
    monkeypatch.delenv("QUARTO_PROFILE", raising=False)


def test_default_is_full():
    assert budget_name() == "full" and get_budget().name == "full"


@pytest.mark.parametrize("profile", ["smoke", "html,smoke", " smoke "])
def test_quarto_smoke_profile_selects_smoke(monkeypatch, profile):
    monkeypatch.setenv("QUARTO_PROFILE", profile)
    assert get_budget().name == "smoke"


def test_other_profile_keeps_full(monkeypatch):
    monkeypatch.setenv("QUARTO_PROFILE", "smokey")
    assert budget_name() == "full"


def test_explicit_budget_wins_over_profile(monkeypatch):
    monkeypatch.setenv("QUARTO_PROFILE", "smoke")
    monkeypatch.setenv("TRUSTML_BUDGET", "full")
    assert budget_name() == "full"


def test_unknown_budget_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("TRUSTML_BUDGET", "huge")
    with pytest.raises(ValueError, match="choose one of"):
        budget_name()
    with pytest.raises(ValueError, match="unknown budget"):
        get_budget("huge")


def test_a_budget_is_only_a_name():
    """The sizes live beside each experiment, not in `budget.py`."""
    assert sorted(BUDGETS) == ["full", "smoke"]
    assert [f.name for f in dataclasses.fields(BUDGETS["full"])] == ["name"]


def test_device_override(monkeypatch):
    monkeypatch.setenv("TRUSTML_DEVICE", "cpu")
    assert get_device() == torch.device("cpu")
    monkeypatch.delenv("TRUSTML_DEVICE")
    expected = "cuda" if torch.cuda.is_available() else None
    assert get_device().type in {expected, "mps", "cpu"}
