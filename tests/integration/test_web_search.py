"""Search results as conversations, the charts, one exchange per page, over real HTTP.

The archive is tests/data/web (an invented group, five days in April and May 2030, nineteen lines
naming the invented "星河通道": long answers and one-word remarks).
"""

from __future__ import annotations

import base64
import re
from pathlib import Path

import pytest

from bot.app import create_app, wait_ready
from bot.config import Config
from tests.integration.conftest import base_config

PASSWORD = "correct horse"
AUTH = {"Authorization": "Basic " + base64.b64encode(f"archive:{PASSWORD}".encode()).decode()}
ARCHIVE = Path(__file__).parent.parent / "data" / "web"
GROUP = "webclub"
TERM = "星河通道"
TERM_LINES = 19  # lines of tests/data/web naming the term, counted by reading the files


def web_config(tmp_path: Path, **web) -> Config:
    raw = base_config(tmp_path, archive={"paths": [str(ARCHIVE)]})
    raw["web"] = {"password": PASSWORD, **web}
    return Config.model_validate(raw)


@pytest.fixture
async def client(aiohttp_client, tmp_path):
    app = create_app(web_config(tmp_path))
    client = await aiohttp_client(app)
    await wait_ready(app)
    return client


async def api(client, path: str, status: int = 200, **params):
    response = await client.get(path, params=params, headers=AUTH)
    body = await response.json()
    assert response.status == status, body
    return body


async def page(client, path: str, status: int = 200, **params) -> str:
    response = await client.get(path, params=params, headers=AUTH)
    assert response.status == status
    return await response.text()


async def test_fixture_lines_are_all_found(client):
    body = await api(client, "/api/search", q=TERM, per_page=50)
    assert body["total"] == TERM_LINES
    assert all(TERM in r["text"] for r in body["results"])


async def test_substantive_answers_before_remarks(client):
    results = (await api(client, "/api/search", q=TERM, per_page=50))["results"]
    remarks = {"星河通道？", "星河通道呢", "又是星河通道", "星河通道好用", "星河通道牛", "星河通道？没用过"}
    positions = [i for i, r in enumerate(results) if r["text"] in remarks]
    assert len(positions) == len(remarks)
    assert min(positions) >= TERM_LINES - len(remarks)  # every remark after every longer line


async def test_hit_shows_its_exchange_and_links_to_the_message(client):
    results = (await api(client, "/api/search", q="结算是T+1 备付金账户"))["results"]
    top = results[0]
    assert top["speaker"].startswith("赵大勇") and top["date"] == "2030-04-01"
    assert top["link"] == "/archive/webclub/2030-04-01#t-091540"
    texts = [c["text"] for c in top["context"]]
    assert "请问星河通道怎么接入？需要什么资质？" in texts  # the question it answered
    assert [c["hit"] for c in top["context"]].count(True) == 1
    assert top["qa"] is not None and top["qa"].startswith("/archive/qa/exchange:webclub:2030-04-01:")


async def test_hit_outside_an_exchange_shows_its_conversation(client):
    results = (await api(client, "/api/search", q="数据库迁移"))["results"]
    context = [c["text"] for c in results[0]["context"]]
    assert context[0].startswith("星河通道今天是不是挂了")  # the line it answered, before it
    assert len(context) >= 2


async def test_each_filter(client):
    by_group = await api(client, "/api/search", q=TERM, group=GROUP, per_page=50)
    assert by_group["total"] == TERM_LINES
    assert (await api(client, "/api/search", q=TERM, group="nogroup"))["total"] == 0
    may = await api(client, "/api/search", q=TERM, since="2030-05-01", per_page=50)
    assert may["total"] == 7 and all(r["date"] >= "2030-05-01" for r in may["results"])
    april = await api(client, "/api/search", q=TERM, until="2030-04-02", per_page=50)
    assert april["total"] == 8 and {r["date"] for r in april["results"]} == {"2030-04-01", "2030-04-02"}
    one_day = await api(client, "/api/search", q=TERM, since="2030-04-09", until="2030-04-09", per_page=50)
    assert one_day["total"] == 4
    kai = await api(client, "/api/search", q=TERM, speaker="kai_openpay", per_page=50)
    assert kai["total"] == 5 and {r["speaker"] for r in kai["results"]} == {"Kai_OpenPay_BD"}


async def test_second_page(client):
    first = await api(client, "/api/search", q=TERM, per_page=8)
    second = await api(client, "/api/search", q=TERM, per_page=8, page=2)
    third = await api(client, "/api/search", q=TERM, per_page=8, page=3)
    assert first["pages"] == 3 and len(first["results"]) == 8 and len(third["results"]) == 3
    seen = [r["text"] for body in (first, second, third) for r in body["results"]]
    assert len(set(seen)) == TERM_LINES
    assert (await api(client, "/api/search", q=TERM, page=9))["results"] == []


async def test_search_page_filters_pages_and_marks(client):
    html = await page(client, "/archive/search", q=TERM)
    assert html.count('<li class="hit">') == 10
    assert f"<mark>{TERM}</mark>" in html
    assert 'rel="next"' in html and "page=2" in html
    second = await page(client, "/archive/search", q=TERM, page="2")
    assert second.count('<li class="hit">') == TERM_LINES - 10 and 'rel="prev"' in second
    filtered = await page(client, "/archive/search", q=TERM, speaker="Kai", since="2030-04-02", until="2030-05-03")
    assert filtered.count('<li class="hit">') == 3
    assert 'value="2030-04-02"' in filtered  # the form keeps its filters
    bad = await page(client, "/archive/search", 400, q=TERM, since="2030-13-01")
    assert "since" in bad and "<li class=\"hit\">" not in bad


async def test_matches_are_escaped_then_marked(client, aiohttp_client, tmp_path):
    folder = tmp_path / "archive" / "markup"
    folder.mkdir(parents=True)
    (folder / "2030-06-01-chat.markdown").write_text(
        "---\ntitle: \"2030-06-01-WeChat\"\ndate: 2030-06-01 12:00:00\nauthor: Tester\n---\n"
        "> 10:00:00  测试员  \n   \n<b>星河通道</b> 的 <script>alert(1)</script> 说明很长很长很长  \n   \n", encoding="utf-8")
    raw = base_config(tmp_path, archive={"paths": [str(tmp_path / "archive")]})
    raw["web"] = {"password": PASSWORD}
    app = create_app(Config.model_validate(raw))
    other = await aiohttp_client(app)
    await wait_ready(app)
    html = await page(other, "/archive/search", q=TERM)
    assert "&lt;b&gt;<mark>星河通道</mark>&lt;/b&gt;" in html
    assert "<script>alert(1)" not in html


async def test_group_page_charts(client):
    html = await page(client, f"/archive/{GROUP}")
    charts = re.findall(r'<svg class="chart ([a-z-]+)"', html)
    assert charts == ["per-day", "calendar", "members"]
    assert html.count('<rect class="bar"') >= 50 + 5  # 50 days from 1 April to 20 May, then members
    assert "2030-04-01：10 条" in html  # a calendar day's exact figure
    assert html.count(f'<a href="/archive/{GROUP}/2030-') == 5 * 2  # calendar days link, and the day list
    assert "林一帆-星河支付-产品-上海" in html
    assert "style=" not in html and "<script" not in html


async def test_day_page_by_hour(client):
    html = await page(client, f"/archive/{GROUP}/2030-04-01")
    assert '<svg class="chart by-hour"' in html
    assert html.count('<rect class="bar"') == 24
    assert "09:00–09:59：6 条" in html  # six messages between nine and ten


async def test_qa_page(client):
    top = (await api(client, "/api/search", q="结算是T+1 备付金账户"))["results"][0]
    html = await page(client, top["qa"])
    assert "请问星河通道怎么接入？需要什么资质？" in html
    assert "资金走持牌机构的备付金账户" in html
    assert 'href="/archive/webclub/2030-04-01#t-091230"' in html
    assert (await client.get("/archive/qa/webclub:2030-04-01:999", headers=AUTH)).status == 404
    assert (await client.get("/archive/qa/webclub:2030-02-30:1", headers=AUTH)).status == 400
    assert (await client.get("/archive/qa/nonsense", headers=AUTH)).status == 400
    assert (await client.get(top["qa"])).status == 401


async def test_api_days_groups_and_ask(client):
    groups = await api(client, "/api/groups")
    assert groups == {"groups": [{"group": GROUP, "days": 5, "messages": 34, "speakers": 5,
                                  "first_date": "2030-04-01", "last_date": "2030-05-20"}]}
    day = await api(client, f"/api/days/{GROUP}/2030-04-02")
    assert day["previous"] == "2030-04-01" and day["next"] == "2030-04-09"
    assert len(day["messages"]) == 8 and day["messages"][0]["anchor"] == "t-084000"
    await api(client, f"/api/days/{GROUP}/2030-04-03", 404)
    asked = await api(client, "/api/ask", q="星河通道的退款接口支持部分退款吗")
    assert asked["answered"] is True
    assert "最多退五十次" in asked["match"]["answers"][0]["text"]
    exchange = await page(client, asked["match"]["qa"])  # the answer's own page
    assert "星河通道的退款接口支持部分退款吗？" in exchange and "最多退五十次" in exchange


@pytest.mark.parametrize("path, params", [
    ("/api/search", {"q": TERM, "page": "-1"}),
    ("/api/search", {"q": TERM, "page": "x"}),
    ("/api/search", {"q": "x" * 201}),
    ("/api/search", {"q": ""}),
    ("/api/search", {}),
    ("/api/search", {"q": "a\x00b"}),
    ("/api/search", {"q": TERM, "since": "9999-01-01"}),
    ("/api/search", {"q": TERM, "since": "2030-05-01", "until": "2030-04-01"}),
    ("/api/search", {"q": TERM, "until": "yesterday"}),
    ("/api/search", {"q": TERM, "per_page": "100000"}),
    ("/api/ask", {"q": "x" * 5000}),
    ("/api/days/webclub/9999-12-31", {}),
    ("/api/days/webclub/2030-02-30", {}),
    ("/api/days/webclub/0000-01-01", {}),
])
async def test_hostile_inputs_get_a_reason(client, path, params):
    body = await api(client, path, 400, **params)
    assert body["error"].startswith("invalid")


async def test_lone_surrogate_in_the_query_is_handled(client):
    response = await client.get("/api/search?q=%ED%A0%80", headers=AUTH)  # UTF-8 of a lone surrogate
    assert response.status == 200  # decoded as replacement characters: nothing found
    assert (await response.json())["results"] == []


@pytest.mark.parametrize("path, params, status", [
    ("/archive/search", {"q": "x" * 5000}, 400),
    ("/archive/search", {"q": TERM, "page": "-1"}, 400),
    ("/archive/search", {"q": TERM, "page": "99999999999999999999"}, 400),
    ("/archive/search", {"q": TERM, "group": "a\x00b"}, 400),
    ("/archive/search", {"q": TERM, "until": "9999-12-31"}, 400),
    ("/archive/search", {"q": "<script>alert(1)</script>"}, 200),
    ("/archive/qa/" + "9" * 5000, {}, 400),
    ("/archive/qa/webclub:9999-12-31:1", {}, 404),
    (f"/archive/{GROUP}/9999-12-31", {}, 404),
])
async def test_hostile_page_requests(client, path, params, status):
    response = await client.get(path, params=params, headers=AUTH)
    assert response.status == status
    assert "<script>alert" not in await response.text()
