"""Figures in the Chinese edition: Chinese words drawn in a CJK font,
English words where there is none (never boxes)."""

import warnings

import matplotlib
import pytest

matplotlib.use("agg")

from cnn_course import (
    messages,  # noqa: E402
    plots,  # noqa: E402
)


@pytest.fixture
def chinese(monkeypatch):
    monkeypatch.setenv(messages.LANGUAGE_VARIABLE, "zh-CN")


@pytest.fixture
def drawn(monkeypatch):
    """The figures the helpers show, drawn instead of shown."""
    import matplotlib.pyplot as plt

    figures = []

    def draw(figure, tight=False):
        figure.canvas.draw()
        figures.append(figure)

    monkeypatch.setattr(plots, "_show", draw)
    # The helpers choose the font in matplotlib's settings: restore them.
    with matplotlib.rc_context():
        yield figures
    plt.close("all")


def words(figure):
    from matplotlib.text import Text

    return [text.get_text() for text in figure.findobj(Text)
            if text.get_text()]


def shift_curves():
    plots.plot_shift_curves([-2, 0, 2], {"dense net": [0.5, 0.9, 0.5]},
                            ylabel="test accuracy", chance=0.1,
                            title="dense net on the shifted test set")


@pytest.mark.skipif(plots.cjk_font() is None,
                    reason="no CJK font here (CI installs fonts-wqy-zenhei)")
def test_chinese_figure_is_drawn_in_a_cjk_font(chinese, drawn):
    with warnings.catch_warnings():
        # matplotlib warns "Glyph ... missing from font(s)" for a box.
        warnings.simplefilter("error")
        shift_curves()
    shown = words(drawn[0])
    assert "水平平移（像素，+ 表示向右）" in shown
    assert {"全连接网络", "测试准确率", "随机猜测"} <= set(shown)
    assert not any("shift" in word or "accuracy" in word for word in shown)


def test_without_a_cjk_font_the_figure_stays_english(chinese, drawn,
                                                     monkeypatch):
    monkeypatch.setattr(plots, "cjk_font", lambda: None)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        shift_curves()
        plots.show_kernels([[[[1.0, -1.0]]]])
    shown = words(drawn[0]) + words(drawn[1])
    assert "horizontal shift (pixels, + is right)" in shown
    assert {"dense net", "test accuracy", "chance", "filter 1"} <= \
        set(shown)
    assert plots.label("map {index}", index=3) == "map 3"
    # Messages a learner reads as text stay Chinese all the same.
    assert messages.t("test accuracy") == "测试准确率"


def test_english_figures_keep_their_font(drawn):
    shift_curves()
    assert "horizontal shift (pixels, + is right)" in words(drawn[0])
    assert matplotlib.rcParams["font.family"][0] != plots.cjk_font()
