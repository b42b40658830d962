"""The learning-rate finder's one rule (training/lr_finder.py) and the learning-rate
formatter (monitor/format.py)."""

import math

import keras
import numpy as np
import pytest

from transfer_widgets import FineTuneController, TransferConfig
from transfer_widgets.monitor import format_learning_rate
from transfer_widgets.training.lr_finder import MIN_POINTS, LRFindResult, suggest_learning_rate
from transfer_widgets.training.smoothing import ema


def sweep(n=100, start=1e-7, end=10.0):
    return [start * (end / start) ** (i / (n - 1)) for i in range(n)]


def falling_curve(lrs, low=0.3, high=2.3, centre=1e-3, width=0.6):
    """A loss that is flat at ``high`` for small rates and falls to ``low`` around ``centre``."""
    x = np.log10(lrs)
    return list(low + (high - low) / (1 + np.exp((x - math.log10(centre)) / width)))


def assert_valid_suggestion(result: LRFindResult):
    """In range, one of the rates swept, at a point where the smoothed loss falls."""
    assert result.message is None
    lrs, s = result.learning_rates, np.asarray(result.smoothed)
    assert min(lrs) <= result.suggested <= max(lrs)
    i = result.suggested_index
    assert lrs[i] == result.suggested
    assert 0 < i < len(s) - 1 and s[i + 1] < s[i - 1]
    assert i < int(np.argmin(s))  # before the minimum


def assert_no_suggestion(result: LRFindResult, *words):
    assert result.suggested is None and result.suggested_index is None
    assert result.message
    for w in words:
        assert w in result.message, result.message


def test_flat_loss_gives_no_suggestion_and_says_why():
    # The user's case: 2.303 throughout (up to float noise) over 1e-7 ... 10.
    rng = np.random.default_rng(0)
    lrs = sweep()
    result = suggest_learning_rate(lrs, list(2.303 + 1e-4 * rng.standard_normal(100)))
    assert_no_suggestion(result, "hardly fell", "data and labels", "widen the range")
    assert suggest_learning_rate(lrs, [2.303] * 100).suggested is None


def test_falling_loss_suggests_the_steepest_descent_inside_the_range():
    lrs = sweep()
    result = suggest_learning_rate(lrs, falling_curve(lrs, centre=1e-3))
    assert_valid_suggestion(result)
    # steepest near the curve's centre (the EMA lags it by a fraction of a decade)
    assert 1e-3 <= result.suggested <= 1e-2
    assert len(result.smoothed) == 100
    assert result.smoothed == pytest.approx(list(ema(result.losses)))


def test_loss_still_falling_at_the_end_of_the_range():
    lrs = sweep(50, 1e-6, 1e-2)
    result = suggest_learning_rate(lrs, falling_curve(lrs, centre=1e-2))
    assert_valid_suggestion(result)


def test_falling_then_diverging_with_nan_and_inf():
    lrs = sweep()
    losses = falling_curve(lrs, centre=1e-4)
    losses = [*losses[:70], *(losses[69] * 3**k for k in range(1, 10)), math.inf, math.nan, *[math.nan] * 19]
    result = suggest_learning_rate(lrs, losses)
    assert_valid_suggestion(result)
    assert result.suggested < lrs[70]  # before it diverged
    assert len(result.smoothed) == 79  # smoothed up to the first non-finite loss
    assert len(result.losses) == 100


def test_old_case_flat_noisy_then_falling_then_exploding():
    # Formerly "a tenth of the minimum"; now the steepest descent, between the flat and the blow-up.
    lrs = sweep()
    losses = [2.3 + 0.05 * (-1) ** i for i in range(70)]
    losses += [2.3 - 0.1 * i for i in range(1, 16)] + [0.8 + 2.0 * i for i in range(15)]
    result = suggest_learning_rate(lrs, losses)
    assert_valid_suggestion(result)
    assert 70 <= result.suggested_index <= 90


@pytest.mark.parametrize("seed", range(20))
def test_noisy_falling_loss_still_gives_a_falling_point(seed):
    rng = np.random.default_rng(seed)
    lrs = sweep()
    true = np.asarray(falling_curve(lrs, centre=1e-3))
    result = suggest_learning_rate(lrs, list(true * (1 + 0.15 * rng.standard_normal(100))))
    assert_valid_suggestion(result)
    i = result.suggested_index
    assert true[i + 5] < true[i - 5] - 0.01  # the noise-free curve falls there too
    assert 1e-4 <= result.suggested <= 3e-2


@pytest.mark.parametrize("seed", range(20))
def test_noisy_flat_loss_gives_no_suggestion(seed):
    rng = np.random.default_rng(seed)
    losses = list(2.3 * (1 + 0.15 * rng.standard_normal(100)))
    assert_no_suggestion(suggest_learning_rate(sweep(), losses))


def test_rising_from_the_start_says_start_lower():
    lrs = sweep(60, 1e-2, 10.0)
    losses = [1.0 + 0.05 * i for i in range(60)]
    assert_no_suggestion(
        suggest_learning_rate(lrs, losses), "rose from the first steps", "started too high", "lower"
    )
    exploding = [1.0 * 1.3**i for i in range(60)]
    assert_no_suggestion(suggest_learning_rate(lrs, exploding), "lower")


@pytest.mark.parametrize(
    ("losses", "words"),
    [
        ([], ["No steps"]),
        ([2.0, 1.5, 1.0], ["Only 3 steps", "more"]),
        ([math.nan] * 5, ["not finite from the first step", "data and labels"]),
        ([2.0, 1.0, math.inf, math.nan, math.nan], ["diverged after 2 steps", "start the sweep lower"]),
    ],
    ids=["none", "three", "nan-at-once", "diverged-early"],
)
def test_too_few_points(losses, words):
    lrs = sweep(len(losses), 1e-4, 1.0) if len(losses) > 1 else [1e-3] * len(losses)
    assert_no_suggestion(suggest_learning_rate(lrs, losses), *words)


def test_messages_write_rates_with_their_exponent():
    result = suggest_learning_rate(sweep(), [2.303] * 100)
    assert "1e-07" in result.message and "10" in result.message


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="one loss per learning rate"):
        suggest_learning_rate([1e-3, 1e-2], [1.0])
    with pytest.raises(ValueError, match="increasing"):
        suggest_learning_rate([1e-2, 1e-3], [1.0, 1.0])
    with pytest.raises(ValueError, match="positive"):
        suggest_learning_rate([0.0, 1e-3], [1.0, 1.0])


def test_suggestion_is_always_a_swept_rate_on_random_input():
    rng = np.random.default_rng(1)
    for _ in range(200):
        n = int(rng.integers(0, 120))
        lrs = sweep(max(n, 2), 10 ** rng.uniform(-8, -3), 10 ** rng.uniform(-2, 1))[:n]
        losses = list(np.cumsum(rng.normal(rng.uniform(-0.1, 0.1), rng.uniform(0.01, 1), n)) + 5)
        if n and rng.random() < 0.3:
            losses[int(rng.integers(0, n))] = math.nan
        result = suggest_learning_rate(lrs, losses)
        assert (result.suggested is None) != (result.message is None)
        if result.suggested is not None:
            assert_valid_suggestion(result)
            assert n >= MIN_POINTS


# -- the controller uses the rule --------------------------------------------------------


def test_controller_lr_find_is_in_range_or_says_why():
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 255, (64, 8, 8, 3)).astype("float32")
    y = (x.mean(axis=(1, 2, 3)) > 127.5).astype("int64") + 2 * (x[..., 0].mean(axis=(1, 2)) > 127.5)
    base = keras.Sequential(
        [keras.Input((8, 8, 3)), keras.layers.Conv2D(4, 3, padding="same", name="conv")], name="tiny"
    )
    cfg = TransferConfig()
    cfg.preprocessing.mode = "rescale"
    cfg.training.batch_size = 8
    cfg.training.seed = 0
    c = FineTuneController(base, num_classes=4, train_data=(x, y), config=cfg)
    seen = []
    c.events.subscribe(lambda events: seen.extend(e for e in events if e["type"] == "lr_find"))
    result = c.lr_find(start=1e-5, end=10.0, steps=40)
    c.events.flush()
    assert len(result.losses) == len(result.learning_rates) >= 2
    if result.suggested is None:
        assert result.message
    else:
        assert 1e-5 <= result.suggested <= 10.0 and result.message is None
        assert_valid_suggestion(result)
    (event,) = seen
    assert event["suggested"] == result.suggested and event.get("message") == result.message


# -- the formatter -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lr", "text"),
    [
        (3.0538555088e-08, "3.05e-08"),
        (0.001, "0.001"),
        (1e-05, "1e-05"),
        (0.0003, "0.0003"),
        (0.00012345, "0.000123"),
        (0.01, "0.01"),
        (1.0, "1"),
        (10, "10"),
        (2.5e-4, "0.00025"),
        (1e-7, "1e-07"),
        (0.0, "0"),
        (None, ""),
        (math.nan, "nan"),
        (math.inf, "inf"),
    ],
)
def test_format_learning_rate_keeps_the_exponent(lr, text):
    assert format_learning_rate(lr) == text


def test_format_learning_rate_digits():
    assert format_learning_rate(3.0538555088e-08, digits=2) == "3.1e-08"
    assert format_learning_rate(np.float32(1e-5)) == "1e-05"
    with pytest.raises(ValueError, match="digits"):
        format_learning_rate(1e-3, digits=0)
