"""An invented day whose answers come from every kind of retrieval unit: an exchange, a talk cut
into two passages (one message, so both start at the same line), a quote-reply chain and an
@-reply chain under a statement, and conversation windows. Every name and line is invented."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from bot.archive.model import Day, Message

ZONE = ZoneInfo("Asia/Shanghai")
GROUP = "inventgrp"
DATE = dt.date(2021, 5, 6)
ASKER, BANKER, RISK = "林小舟-云帆支付-产品-杭州", "叶知秋-海蓝银行-架构-上海", "周一鸣-星桥科技-风控-深圳"
TALK = ("跨境收单的拒付处理其实分三步走。第一步是收到卡组织的拒付通知后，在七个自然日内把交易凭证、物流单号和商户沟通记录整理好。"
        "第二步是按照卡组织的原因代码准备抗辩材料，欺诈类和服务类的材料要求完全不同，欺诈类要提供三维验证结果。"
        "第三步是提交后跟踪预仲裁，如果商户坚持就进入仲裁，仲裁费很高，一般小额交易直接接受拒付更划算。"
        "另外提醒一下，拒付率超过百分之一就会被卡组织列入监控计划，罚款按月累计，务必提前做好风控。"
        "还有一点很多人忽略：拒付的时效按交易日起算，不是按清算日起算，跨时区的商户经常因此错过抗辩窗口。"
        "我们的做法是在清算系统里给每笔交易打上卡组织的截止日期标签，到期前三天自动提醒运营同事。")
TALK_TAIL = "拒付的时效按交易日起算"  # said only in the talk's second piece
EXCHANGE_ANSWER = "先挂账，再按差错类型逐笔调账"
QUOTED = "海外商户开通外卡收单需要哪些资质材料，审核周期多长"

# Questions and the unit each is answered from over this day alone.
ASK_TALK = "跨境收单的拒付怎么抗辩，时效按什么日期算？"  # passage, second piece
ASK_EXCHANGE = "备付金对账差错怎么处理？"  # exchange
ASK_ENGINE = "自研风控规则引擎的灰度发布和回滚怎么做？"  # the @-replies under a statement


def _at(h: int, m: int) -> dt.datetime:
    return dt.datetime(2021, 5, 6, h, m, tzinfo=ZONE)


def units_day() -> Day:
    return Day(GROUP, DATE, "2021-05-06-WeChat", "test", messages=[
        Message(_at(9, 0), ASKER, "请问大家，备付金对账差错一般怎么处理比较规范？"),
        Message(_at(9, 2), BANKER, f"{EXCHANGE_ANSWER}，月底出差错报告给银行。"),
        Message(_at(9, 4), ASKER, "明白了，谢谢"),
        Message(_at(10, 0), RISK, TALK),
        Message(_at(11, 0), BANKER, QUOTED),
        Message(_at(11, 5), RISK, f"「 {BANKER}: {QUOTED} 」 - - - 营业执照、法人身份证明和网站备案，审核一般两到三周。"),
        Message(_at(11, 6), ASKER, f"「 {BANKER}: {QUOTED} 」 - - - 还要提供交易流程截图和退款政策页面。"),
        Message(_at(14, 0), RISK, "我们上个月把商户进件的风控规则引擎换成了自研版本，规则热更新只要几秒钟。"),
        Message(_at(14, 3), BANKER, f"@{RISK} 灰度发布按商户号尾号分批切流量，配置中心推送规则，出问题一键回滚。",
                mentions=(RISK,)),
        Message(_at(14, 4), ASKER, f"@{RISK} 规则版本要留快照，方便事后复盘哪条规则拦截了哪笔进件。", mentions=(RISK,)),
    ])
