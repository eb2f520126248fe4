"""Small plotting helpers so notebook cells stay about one idea each.

A figure's words (titles, axis labels, legends) are English templates
passed through `label`, which gives them in the notebook's language (the
message catalogue, cnn_course/messages.py) when matplotlib has a font for
it, and in English otherwise: a Chinese label drawn without a CJK font
would show boxes.
"""

import dataclasses
import functools

import matplotlib.pyplot as plt
import numpy as np
from matplotlib import font_manager

from cnn_course.budget import autograding
from cnn_course.messages import (
    ENGLISH,
    language,
    phrase,
    t,
    use_language,
)

# Fonts with Simplified-Chinese glyphs, preferred first. The course's CI
# and its Debian images install fonts-wqy-zenhei (WenQuanYi Zen Hei).
CJK_FONTS = ("WenQuanYi Zen Hei", "Noto Sans CJK SC", "Source Han Sans SC",
             "Noto Sans SC", "Microsoft YaHei", "SimHei", "PingFang SC",
             "Heiti SC")


@functools.cache
def cjk_font():
    """The first of CJK_FONTS matplotlib knows, or None.

    WenQuanYi Zen Hei declares itself medium (500), not normal (400), so
    matplotlib would warn on every label it draws that it found no normal
    weight; it is registered as normal too.
    """
    entries = {entry.name: entry
               for entry in font_manager.fontManager.ttflist}
    name = next((name for name in CJK_FONTS if name in entries), None)
    if name is not None and entries[name].weight != 400:
        font_manager.fontManager.ttflist.append(
            dataclasses.replace(entries[name], weight=400))
        font_manager.fontManager._findfont_cached.cache_clear()
    return name


def _drawable():
    """Whether figures can be drawn in the current language: English
    always, Chinese only with a CJK font. That font comes first, then the
    usual sans-serif for what it lacks (the minus sign of "−2")."""
    if language() == ENGLISH:
        return True
    font = cjk_font()
    if font is None:
        return False
    if plt.rcParams["font.family"][:1] != [font]:
        plt.rcParams["font.family"] = [font, "sans-serif"]
    return True


def _subplots(*args, **kwargs):
    """plt.subplots, with the language's font chosen first: a figure's
    texts take their font when they are made."""
    _drawable()
    return plt.subplots(*args, **kwargs)


def _words(text):
    """Fixed words a cell passes (a title, a curve's name), shown like
    `label`'s: the catalogue's form where a font can draw it."""
    text = str(text)
    return phrase(text) if _drawable() else text


def label(template, **values):
    """`template` filled with `values`, for a figure: in the notebook's
    language where a font can draw it, else in English."""
    if _drawable():
        return t(template, **values)
    with use_language(ENGLISH):
        return t(template, **values)


def _show(figure, tight=False):
    """Show a figure; while the grader autogrades, drop it undrawn.

    Grades never depend on figures, and laying them out and drawing them
    (PNG for the autograded notebook and the feedback) costs a graded
    notebook seconds.
    """
    if autograding():
        plt.close(figure)
        return
    if tight:
        figure.tight_layout()
    plt.show()


def show_images(images, titles=None, ncols=10, size=1.4, cmap="gray"):
    """Images in a grid, each with an optional title."""
    images = list(images)
    nrows = max(1, int(np.ceil(len(images) / ncols)))
    ncols = min(ncols, len(images))
    figure, axes = _subplots(nrows, ncols, squeeze=False,
                                figsize=(size * ncols, size * nrows + 0.3))
    for index, axis in enumerate(axes.flat):
        axis.axis("off")
        if index < len(images):
            axis.imshow(images[index], cmap=cmap)
            if titles is not None:
                axis.set_title(_words(titles[index]), fontsize=9)
    _show(figure, tight=True)


def plot_history(history, metrics=("loss", "accuracy")):
    """Training and validation curves from a Keras History object."""
    figure, axes = _subplots(1, len(metrics), figsize=(5 * len(metrics), 3))
    for axis, metric in zip(np.atleast_1d(axes), metrics):
        epochs = np.arange(1, len(history.history[metric]) + 1)
        axis.plot(epochs, history.history[metric], "o-",
                  label=label("training"))
        validation = history.history.get(f"val_{metric}")
        if validation is not None:
            axis.plot(epochs, validation, "s--", label=label("test"))
        axis.set_xlabel(label("epoch"))
        axis.set_ylabel({"loss": label("loss"),
                         "accuracy": label("accuracy")}.get(metric, metric))
        axis.legend()
    _show(figure, tight=True)


def plot_probability_bars(probabilities, shifts, images=None):
    """One bar chart of class probabilities per shift, images above them."""
    count = len(shifts)
    rows = 2 if images is not None else 1
    figure, axes = _subplots(rows, count, squeeze=False,
                                figsize=(2.2 * count, 2.2 * rows + 0.4))
    for column, shift in enumerate(shifts):
        if images is not None:
            axes[0, column].imshow(images[column], cmap="gray")
            axes[0, column].axis("off")
            axes[0, column].set_title(
                label("shift {shift:+d} px", shift=shift), fontsize=9)
        axis = axes[rows - 1, column]
        probs = probabilities[column]
        colors = ["tab:orange" if digit == np.argmax(probs) else "tab:blue"
                  for digit in range(len(probs))]
        axis.bar(range(len(probs)), probs, color=colors)
        axis.set_xticks(range(len(probs)))
        axis.set_ylim(0, 1)
        axis.tick_params(labelsize=7)
    axes[rows - 1, 0].set_ylabel(label("probability"))
    _show(figure, tight=True)


def plot_shift_curves(shifts, curves, ylabel, title=None, chance=None):
    """Several named curves against the shift in pixels."""
    figure, axis = _subplots(figsize=(6, 3.5))
    for name, values in curves.items():
        axis.plot(shifts, values, "o-", label=_words(name))
    if chance is not None:
        axis.axhline(chance, color="gray", linestyle=":",
                     label=label("chance"))
    axis.set_xlabel(
        label("horizontal shift (pixels, + is right)"))
    axis.set_ylabel(_words(ylabel))
    axis.set_xticks(list(shifts))
    if title:
        axis.set_title(_words(title))
    axis.grid(alpha=0.3)
    axis.legend()
    _show(figure, tight=True)


def plot_shift_panels(shifts, panels, ylabel, dashed=(), chance=None):
    """Side-by-side panels ({title: {name: values}}) of curves against
    the shift in pixels; curves named in `dashed` are drawn dashed."""
    figure, axes = _subplots(1, len(panels), squeeze=False,
                                figsize=(5.5 * len(panels), 3.8))
    for axis, (title, curves) in zip(axes.flat, panels.items()):
        for name, values in curves.items():
            axis.plot(shifts, values, "o--" if name in dashed else "o-",
                      label=_words(name))
        if chance is not None:
            axis.axhline(chance, color="gray", linestyle=":",
                         label=label("chance"))
        axis.set_xlabel(
            label("horizontal shift (pixels, + is right)"))
        axis.set_xticks(list(shifts))
        axis.set_title(_words(title))
        axis.grid(alpha=0.3)
        axis.legend(fontsize=8)
    axes[0, 0].set_ylabel(_words(ylabel))
    _show(figure, tight=True)


def plot_losses(losses, window=50):
    """The loss of every training step, and its mean over `window` steps.
    (A linear scale: a log scale's tick labels are mathtext, whose minus
    sign the CJK font lacks.)"""
    losses = np.asarray(losses, dtype=float)
    figure, axis = _subplots(figsize=(6, 3))
    axis.plot(losses, alpha=0.3, label=label("each batch"))
    if len(losses) >= window:
        smoothed = np.convolve(losses, np.ones(window) / window, "valid")
        axis.plot(np.arange(window - 1, len(losses)), smoothed,
                  label=label("mean of {window} batches", window=window))
    axis.set_xlabel(label("step (one batch)"))
    axis.set_ylabel(label("cross-entropy"))
    axis.legend()
    _show(figure, tight=True)


def show_kernels(kernels, channel=0, ncols=8, size=1.4, titles=None):
    """Convolution kernels in Keras layout (kh, kw, C_in, C_out), one
    panel per output channel, on one colour scale centred at 0."""
    kernels = np.asarray(kernels)
    count = kernels.shape[3]
    limit = float(np.abs(kernels[:, :, channel]).max()) or 1.0
    nrows = max(1, int(np.ceil(count / ncols)))
    ncols = min(ncols, count)
    figure, axes = _subplots(nrows, ncols, squeeze=False,
                                figsize=(size * ncols, size * nrows + 0.3))
    for index, axis in enumerate(axes.flat):
        axis.axis("off")
        if index < count:
            image = axis.imshow(kernels[:, :, channel, index], cmap="RdBu_r",
                                vmin=-limit, vmax=limit)
            axis.set_title(_words(titles[index]) if titles
                           else label("filter {index}", index=index),
                           fontsize=9)
    figure.colorbar(image, ax=axes, shrink=0.8)
    _show(figure)


def plot_windows(matrix, kernel, positions, titles=None, size=2.6):
    """A small matrix with its numbers, once per window position.

    The window of the kernel's shape whose top-left corner is at each
    (row, col) of `positions` is shaded, and each of its numbers is shown
    with the kernel weight it is multiplied with (in red).
    """
    matrix, kernel = np.asarray(matrix), np.asarray(kernel)
    rows, cols = kernel.shape
    figure, axes = _subplots(1, len(positions), squeeze=False,
                                figsize=(size * len(positions), size + 0.3))
    for index, (row, col) in enumerate(positions):
        axis = axes[0, index]
        shade = np.zeros(matrix.shape)
        shade[row:row + rows, col:col + cols] = 1
        axis.imshow(shade, cmap="Oranges", vmin=0, vmax=2.5)
        for (r, c), value in np.ndenumerate(matrix):
            inside = row <= r < row + rows and col <= c < col + cols
            axis.text(c, r - 0.12 * inside, f"{value:g}", ha="center",
                      va="center", fontsize=11)
            if inside:
                weight = kernel[r - row, c - col]
                axis.text(c, r + 0.28, f"\u00d7{weight:g}", ha="center",
                          va="center", fontsize=8, color="tab:red")
        axis.add_patch(plt.Rectangle((col - 0.5, row - 0.5), cols, rows,
                                     fill=False, edgecolor="tab:red",
                                     linewidth=2))
        axis.set_xticks(np.arange(-0.5, matrix.shape[1]), minor=True)
        axis.set_yticks(np.arange(-0.5, matrix.shape[0]), minor=True)
        axis.grid(which="minor", color="gray", linewidth=0.5)
        axis.tick_params(which="both", length=0, labelbottom=False,
                         labelleft=False)
        if titles is not None:
            axis.set_title(_words(titles[index]), fontsize=9)
    _show(figure, tight=True)


def show_feature_maps(image, feature_maps, titles, size=2.4):
    """An image (gray) beside signed feature maps (blue < 0 < red).

    `titles` has one entry for the image, then one per feature map. Each
    map has its own colour scale, symmetric around 0 (white).
    """
    panels = [image, *feature_maps]
    figure, axes = _subplots(1, len(panels), squeeze=False,
                                figsize=(size * len(panels), size + 0.3))
    for index, (axis, panel) in enumerate(zip(axes[0], panels)):
        if index == 0:
            axis.imshow(panel, cmap="gray")
        else:
            limit = float(np.abs(panel).max()) or 1.0
            axis.imshow(panel, cmap="RdBu_r", vmin=-limit, vmax=limit)
        axis.set_title(_words(titles[index]), fontsize=9)
        axis.axis("off")
    _show(figure, tight=True)


def show_feature_map_rows(rows, titles, size=2.0):
    """Rows of [image, feature maps...], one colour scale per column.

    `titles` has one list per row. The first column is drawn in gray; the
    others blue < 0 < red, with the same scale down each column, so that a
    map that only moved looks the same as the one above it.
    """
    columns = len(rows[0])
    limits = [max(float(np.abs(row[index]).max()) for row in rows) or 1.0
              for index in range(columns)]
    figure, axes = _subplots(len(rows), columns, squeeze=False,
                                figsize=(size * columns,
                                         (size + 0.3) * len(rows)))
    for row_index, row in enumerate(rows):
        for index, panel in enumerate(row):
            axis = axes[row_index, index]
            if index == 0:
                axis.imshow(panel, cmap="gray")
            else:
                axis.imshow(panel, cmap="RdBu_r", vmin=-limits[index],
                            vmax=limits[index])
            axis.set_title(_words(titles[row_index][index]), fontsize=9)
            axis.axis("off")
    _show(figure, tight=True)
