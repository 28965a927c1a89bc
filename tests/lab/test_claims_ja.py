"""The Japanese claims catalogue (fukaku/lab/claims_ja.py): complete, current, faithful in its numbers,
and worded with the seeds' terms."""
from __future__ import annotations

import re
from collections import Counter

import pytest

from fukaku.lab.claims_ja import CLAIMS_JA, claim_ja
from fukaku.lab.registry import discover

NUMBER = re.compile(r"\d+(?:\.\d+)?")
KANA = re.compile(r"[\u3040-\u30ff]")

# An English term of a claim and the word the seeds use for it (grep ../shared/seeds/*.txt): every claim
# that says the first says the second in Japanese.
SEED_TERMS = [
    (r"backpropagat|back-propagat", "誤差逆伝播法"),
    (r"\bconvolution", "畳み込み"),
    (r"learning rate|\blr\b", "学習率"),
    (r"activation function|nonlinear activation", "活性化関数"),
    (r"overfit|over-fit", "過学習"),
    (r"\bautoencoder", "オートエンコーダー"),
    (r"\battention\b", "アテンション|注意"),
    (r"\bloss", "損失"),
    (r"gradient descent", "勾配降下法"),
    (r"cross-entropy", "交差エントロピー"),
    (r"Boltzmann", "ボルツマン"),
    (r"recurrent", "リカレント|再帰"),
]


def missing_numbers(english: str, japanese: str) -> set[str]:
    """The numbers of the English text that the Japanese one lacks, counted: "8×8" needs two 8s."""
    return set(Counter(NUMBER.findall(english)) - Counter(NUMBER.findall(japanese)))


def test_every_registered_experiment_has_an_entry_and_none_is_stale() -> None:
    registered = set(discover())
    assert registered - set(CLAIMS_JA) == set(), "add these to fukaku/lab/claims_ja.py"
    assert set(CLAIMS_JA) - registered == set(), "these experiments no longer exist"


@pytest.mark.parametrize("exp_id", sorted(discover()))
def test_the_japanese_keeps_every_number_and_is_japanese(exp_id: str) -> None:
    exp = discover()[exp_id]
    title, claim = claim_ja(exp_id)
    assert missing_numbers(exp.title, title) == set(), "title"
    assert missing_numbers(exp.claim, claim) == set(), "claim"
    assert KANA.search(title) and KANA.search(claim)
    assert len(claim) >= 0.3 * len(exp.claim), "the claim looks cut short"


@pytest.mark.parametrize("english, japanese", [("p = 0.138 at N = 1000", "N = 1000 で p = 0.13"),
                                               ("β₁ = 0.5, 8×8", "β₁ = 0.5、8×9")])
def test_the_number_check_catches_a_changed_number(english: str, japanese: str) -> None:
    assert missing_numbers(english, japanese)


@pytest.mark.parametrize("english, japanese", SEED_TERMS)
def test_the_seeds_terms_are_used(english: str, japanese: str) -> None:
    using = [i for i, e in discover().items() if re.search(english, f"{e.title} {e.claim}", re.I)]
    assert using, f"no claim says {english!r}: the pair checks nothing"
    assert [i for i in using if not re.search(japanese, " ".join(CLAIMS_JA[i]))] == []


def test_an_unknown_id_names_the_catalogue() -> None:
    with pytest.raises(KeyError, match="claims_ja.py"):
        claim_ja("no-such-experiment")
