"""The word split of the spin classifier: the words its word head scores, in the order it scores them.

One home for the pattern: `detector.text.tokenize` uses it, and the model folder's remote code (the
transformers pipeline) ships this file, so both split a sentence into the same words. Standard
library only, so that the model folder loads without the ``detector`` package.
"""

import re

__all__ = ["TOKEN_RE", "split_words"]

TOKEN_RE = re.compile(
    r"""
      (?P<abbr>(?:[^\W\d_]\.){2,}(?:-[^\W_]+(?:['\u2019-][^\W_]+)*)?)   # U.S., e.g., U.S.-led
    | (?P<number>\d+(?:[.,:/]\d+)+(?:-[^\W_]+)*)                        # 3.5, 100,000, 23:15, 4/2/2022
    | (?P<word>[^\W_]+(?:['\u2019-][^\W_]+)*)                           # China's, pro-Western, S-400, 2014
    | (?P<punct>[^\w\s]|_)                                              # one punctuation mark
    """,
    re.VERBOSE,
)


def split_words(sentence: str) -> list[tuple[str, int, int, bool]]:
    """(text, start, end, is_word) for every token of ``sentence``; punctuation has ``is_word`` False."""
    return [(m.group(), m.start(), m.end(), m.lastgroup != "punct") for m in TOKEN_RE.finditer(sentence)]
