"""The book's Sphinx extension (book/_ext/rectified_html.py): line breaks of the source
that would show as gaps in Chinese text are removed; other text, code and math are not."""

import sys
from pathlib import Path

from docutils import nodes
from docutils.core import publish_doctree

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "book" / "_ext"))

import rectified_html  # noqa: E402

SOURCE = """\
读者带来的每一个问题，都在这里回答。
这些数字不是手写的，
所以这一页与各章、与
`英文版 <quick-answers.html>`_
永远一致。见 ReLU
和 sigmoid 的比较。

English text keeps
its line breaks as spaces.

::

    代码。
    不变
"""


def _paragraphs(doctree):
    return [p.astext() for p in doctree.findall(nodes.paragraph)]


def test_breaks_in_chinese_text_are_removed_and_nothing_else():
    doctree = publish_doctree(SOURCE)
    assert rectified_html.join_cjk_lines(doctree) >= 2
    chinese, english = _paragraphs(doctree)
    assert chinese == ("读者带来的每一个问题，都在这里回答。这些数字不是手写的，"
                       "所以这一页与各章、与英文版永远一致。见 ReLU\n和 sigmoid 的比较。")
    assert english == "English text keeps\nits line breaks as spaces."
    code = next(doctree.findall(nodes.literal_block)).astext()
    assert code == "代码。\n不变"


def test_a_page_without_chinese_is_unchanged():
    doctree = publish_doctree("One line\nand another.\n")
    assert rectified_html.join_cjk_lines(doctree) == 0
    assert _paragraphs(doctree) == ["One line\nand another."]
