"""The Step protocol's sample rows: named rows, blocks of rows, and plain lists from older steps."""

import pytest
import torch

from ganzoo.errors import GanzooError
from ganzoo.step import labelled_rows


def test_named_rows_keep_their_order_and_blocks_label_their_first_row():
    a, b = torch.zeros(2, 3, 4, 4), torch.ones(2, 3, 4, 4)
    labels, rows = labelled_rows({"input": a, "translation": b, "samples": [a, b, a]})
    assert labels == ["input", "translation", "samples", "", ""]
    assert [r is a for r in rows] == [True, False, True, False, True]


def test_plain_rows_are_numbered():
    labels, rows = labelled_rows([torch.zeros(2, 3, 4, 4)] * 3)
    assert labels == ["row 1", "row 2", "row 3"] and len(rows) == 3


@pytest.mark.parametrize("bad", [{}, [], {"input": "image"}, {"": torch.zeros(1, 3, 4, 4)}, {"samples": []}])
def test_rows_that_are_not_images_are_a_clear_error(bad):
    with pytest.raises(GanzooError, match="sample_rows"):
        labelled_rows(bad)
