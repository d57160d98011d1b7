"""jieba's dictionary read a first character at a time segments exactly like jieba read whole."""

from __future__ import annotations

import jieba

from bot.archive.reader import read_day
from bot.jieba_dict import PrefixDict, load_into
from bot.text import Segmenter, domain_terms, normalise
from tests.conftest import SAMPLE_DAY


def test_cuts_equal_a_plainly_initialised_jieba(tmp_path):
    plain, lazy = jieba.Tokenizer(), jieba.Tokenizer()
    plain.initialize()
    load_into(lazy, str(tmp_path))  # no cache file yet: built from jieba's own dictionary
    again = jieba.Tokenizer()
    load_into(again, str(tmp_path))  # read from the cache file
    assert isinstance(again.FREQ, PrefixDict) and lazy.total == plain.total == again.total
    for term, freq in domain_terms():
        for tokenizer in (plain, lazy, again):
            tokenizer.add_word(normalise(term).replace(" ", ""), freq)
    texts = [normalise(m.text) for m in read_day(SAMPLE_DAY).messages] + ["断直连以后备付金怎么处理", "T+1结算", ""]
    for text in texts:
        expected = list(plain.cut(text, HMM=True))
        assert list(lazy.cut(text, HMM=True)) == expected and list(again.cut(text, HMM=True)) == expected
    assert lazy.FREQ.get("") is None and "" not in lazy.FREQ


def test_a_damaged_cache_file_is_rebuilt(tmp_path):
    from bot.jieba_dict import _FILE

    (tmp_path / _FILE).write_bytes(b"\x00not marshal")
    tokenizer = jieba.Tokenizer()
    load_into(tokenizer, str(tmp_path))
    assert "支付" in tokenizer.FREQ and (tmp_path / _FILE).stat().st_size > 1_000_000
    assert "流程" in Segmenter().words("网联的接入流程")
