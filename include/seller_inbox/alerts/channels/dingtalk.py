"""DingTalk (钉钉) group robot: a markdown message, signed when the connection has a secret.

Connection: the webhook URL in ``host`` or extra ``webhook_url``; ``password`` = the robot's
signing secret (``SEC…``, optional): the URL then gets ``timestamp`` and
``sign`` = Base64(HMAC-SHA256(secret, "<timestamp>\\n<secret>")).
"""

from __future__ import annotations

from seller_inbox.alerts.channels.base import Channel, SendBudget, connection
from seller_inbox.alerts.channels.http import post_json, robot_ok, signed, webhook_url


class DingTalkChannel(Channel):
    type = "dingtalk"
    markup = "markdown"

    def deliver(self, payload: dict, budget: SendBudget) -> str:
        conn = connection(self.conn_id)
        url = webhook_url(conn)
        if conn.password:
            url = signed(url, conn.password)
        body = {"msgtype": "markdown", "markdown": {"title": payload["title"][:64], "text": self.body(payload)[:5000]}}
        robot_ok(post_json(url, body, budget), "DingTalk")
        return "ok"
