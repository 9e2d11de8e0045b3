"""Solicitations API v1: may this order be asked for a review, and asking (usage plans from
the model ``solicitations.json``)."""

from __future__ import annotations

from seller_inbox.spapi.messaging import action_names
from seller_inbox.spapi.operation import table
from seller_inbox.spapi.paging import request_id

LIBRARY_API = "solicitations"
_ORDER = "/solicitations/v1/orders/{amazonOrderId}"

OPERATIONS = table(
    ("getSolicitationActionsForOrder", "solicitations/v1", "GET", _ORDER, 1, 5),
    ("createProductReviewAndSellerFeedbackSolicitation", "solicitations/v1", "POST",
     _ORDER + "/solicitations/productReviewAndSellerFeedback", 1, 5),
)


class Solicitations:
    """Client mixin: the Solicitations calls."""

    def get_solicitation_actions(self, order_id: str, marketplace_id: str) -> list[str]:
        res = self.call("getSolicitationActionsForOrder",
                        lambda c: c.get_solicitation_actions_for_order(order_id, marketplaceIds=marketplace_id),
                        api=LIBRARY_API, marketplace_id=marketplace_id)
        return action_names(res.payload)

    def create_solicitation(self, order_id: str, marketplace_id: str) -> str | None:
        """Request a product review and seller feedback for the order; return Amazon's request id."""
        # the library drops the required marketplaceIds query parameter unless passed explicitly
        res = self.call("createProductReviewAndSellerFeedbackSolicitation",
                        lambda c: c.create_product_review_and_seller_feedback_solicitation(
                            order_id, marketplaceIds=marketplace_id),
                        api=LIBRARY_API, marketplace_id=marketplace_id, idempotent=False)
        return request_id(res)
