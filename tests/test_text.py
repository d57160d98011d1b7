"""Normalisation and segmentation: what two differently typed questions must have in common."""

from bot.text import Segmenter, compact, normalise, segmenter


def test_nfkc_full_width_and_case_folding():
    assert normalise("ＡＢＣ　ＰＯＳ机１２３") == "abc pos机123"


def test_emoji_codes_mentions_links_and_punctuation_are_removed():
    text = "@老周-样例银行-架构-北京?请问[微笑]汇缴户？？见 https://example.invalid/x ！"
    assert normalise(text) == "请问 汇缴户 见"


def test_compact_joins_words():
    assert compact("备付金，汇缴户。") == "备付金汇缴户"


def test_domain_terms_stay_whole():
    words = segmenter().words("断直连以后备付金汇缴户和二类户的产品账怎么做清结算？")
    for term in ("断直连", "备付金", "汇缴户", "二类户", "产品账", "清结算"):
        assert term in words


def test_stopwords_and_question_words_are_dropped():
    assert segmenter().words("请问大家二类户有什么区别吗？") == ["二类户", "区别"]


def test_extra_terms_extend_the_dictionary():
    plain = segmenter().words("聚星宝通道怎么接")
    extended = Segmenter(["聚星宝"]).words("聚星宝通道怎么接")
    assert "聚星宝" not in plain
    assert "聚星宝" in extended


def test_segmented_text_is_space_separated_for_token_scorers():
    assert segmenter().segmented("网联和银联") == "网联 银联"


def test_segmenter_is_loaded_once_per_term_set():
    assert segmenter(()) is segmenter(())


def test_settlement_terms_survive_punctuation_removal():
    assert normalise("做T+0垫资") == "做tplus0垫资"
    assert "tplus1" in segmenter().words("T+1结算")
