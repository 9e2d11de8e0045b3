"""The simulator's own usage plans: (rate per second, burst) per operation, as Amazon's models state them.

Read from the "Usage plan" table in each operation's description in the official Selling
Partner API models (amzn/selling-partner-api-models, models/<api>/<file>), not from the
client: the client keeps its own table (``seller_inbox.spapi``), and
``tests/integration/test_sandbox_contract.py`` checks that the two agree operation by
operation, so a wrong plan on either side fails a test. Keys are the models' operationIds,
except ``getOrder2026`` (the 2026-01-01 getOrder; v0 has a getOrder too).
"""

from __future__ import annotations

RATES: dict[str, tuple[float, int]] = {
    # orders-api-model/ordersV0.json
    "getOrders": (0.0167, 20),                    # getOrders
    "getOrder": (0.5, 30),                        # getOrder
    "getOrderBuyerInfo": (0.5, 30),               # getOrderBuyerInfo
    "getOrderAddress": (0.5, 30),                 # getOrderAddress
    "getOrderItems": (0.5, 30),                   # getOrderItems
    "getOrderItemsBuyerInfo": (0.5, 30),          # getOrderItemsBuyerInfo
    # orders-api-model/orders_2026-01-01.json
    "searchOrders": (0.0056, 20),                 # searchOrders
    "getOrder2026": (0.5, 30),                    # getOrder
    # tokens-api-model/tokens_2021-03-01.json
    "createRestrictedDataToken": (1, 10),         # createRestrictedDataToken
    # messaging-api-model/messaging.json
    "getMessagingActionsForOrder": (1, 5),        # getMessagingActionsForOrder
    "GetAttributes": (1, 5),                      # GetAttributes
    "confirmCustomizationDetails": (1, 5),        # confirmCustomizationDetails
    "createConfirmDeliveryDetails": (1, 5),       # createConfirmDeliveryDetails
    "createLegalDisclosure": (1, 5),              # createLegalDisclosure
    "createConfirmOrderDetails": (1, 5),          # createConfirmOrderDetails
    "createConfirmServiceDetails": (1, 5),        # createConfirmServiceDetails
    "CreateWarranty": (1, 5),                     # CreateWarranty
    "createDigitalAccessKey": (1, 5),             # createDigitalAccessKey
    "createUnexpectedProblem": (1, 5),            # createUnexpectedProblem
    # sendInvoice: the model states no usage plan; every other Messaging operation's (1/s, burst 5)
    "sendInvoice": (1, 5),
    # solicitations-api-model/solicitations.json
    "getSolicitationActionsForOrder": (1, 5),     # getSolicitationActionsForOrder
    "createProductReviewAndSellerFeedbackSolicitation": (1, 5),  # createProductReviewAndSellerFeedbackSolicitation
    # reports-api-model/reports_2021-06-30.json
    "createReport": (0.0167, 15),                 # createReport
    "getReport": (2, 15),                         # getReport
    "getReportDocument": (0.0167, 15),            # getReportDocument
}
