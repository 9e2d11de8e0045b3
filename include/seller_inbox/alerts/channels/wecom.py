"""WeCom (企业微信) group robot: a markdown message (at most 4,096 bytes).

Connection: the robot's webhook URL in ``host`` (``https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…``)
or in extra ``webhook_url``.
"""

from __future__ import annotations

from seller_inbox.alerts.channels.base import Channel, SendBudget, connection
from seller_inbox.alerts.channels.http import post_json, robot_ok, webhook_url


class WeComChannel(Channel):
    type = "wecom"
    markup = "markdown"

    def deliver(self, payload: dict, budget: SendBudget) -> str:
        conn = connection(self.conn_id)
        content = self.body(payload).encode("utf-8")[:4000].decode("utf-8", "ignore")
        resp = post_json(webhook_url(conn), {"msgtype": "markdown", "markdown": {"content": content}}, budget)
        robot_ok(resp, "WeCom")
        return "ok"
