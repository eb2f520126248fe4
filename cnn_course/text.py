"""Text for learners, in their language and aligned in columns."""

import unicodedata

from cnn_course.messages import phrase, t

__all__ = ["pad_to_width", "phrase", "t"]


def display_width(text):
    """Columns `text` takes in a terminal or a notebook's output: two for
    a wide (CJK) character, one for others."""
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1
               for char in text)


def pad_to_width(text, width, align="<"):
    """`text` padded with spaces to `width` columns, on the right ("<")
    or on the left (">"); like f"{text:<{width}}", but a Chinese
    character counts as two columns, so tables stay aligned."""
    padding = " " * max(0, width - display_width(text))
    return text + padding if align == "<" else padding + text
