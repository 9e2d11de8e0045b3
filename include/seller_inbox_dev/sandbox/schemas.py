"""JSON Schemas (Draft 2020-12) of the SP-API responses the simulator serves, written by hand
for this project from the official Selling Partner API models (Orders v0, Orders 2026-01-01,
Tokens 2021-03-01, Messaging v1, Solicitations v1, Reports 2021-06-30) and the LWA docs.

Field names, casing, types, enums and required lists follow the models. Objects are closed
(``additionalProperties: false``) over the subset of each model's properties listed here:
a misspelt or invented field fails validation. Every property listed exists in the model.

``RESPONSES[(operation, status)]`` gives the schema of a response body; ``validate`` checks one.
"""

from __future__ import annotations

from typing import Any

from seller_inbox.domain.identifiers import ORDER_ID

DATE_TIME = {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$"}
STRING = {"type": "string"}
INT = {"type": "integer"}
BOOL = {"type": "boolean"}


def obj(props: dict, required: tuple = (), closed: bool = True) -> dict:
    s: dict[str, Any] = {"type": "object", "properties": props}
    if required:
        s["required"] = list(required)
    if closed:
        s["additionalProperties"] = False
    return s


def arr(items: dict, min_items: int = 0) -> dict:
    s = {"type": "array", "items": items}
    if min_items:
        s["minItems"] = min_items
    return s


# ---------------------------------------------------------------- shared
ERROR = obj({"code": STRING, "message": STRING, "details": STRING}, ("code", "message"))
ERROR_LIST_ARRAY = arr(ERROR, 1)
# v0 / messaging / solicitations: errors ride in the operation's own response object
ERROR_RESPONSE = obj({"errors": ERROR_LIST_ARRAY}, ("errors",))
# reports / tokens / orders 2026: ErrorList is an object with a required errors array
ERROR_LIST = obj({"errors": ERROR_LIST_ARRAY}, ("errors",))

# ---------------------------------------------------------------- Orders v0
MONEY_V0 = obj({"CurrencyCode": STRING, "Amount": {"type": "string", "pattern": r"^-?\d+(\.\d+)?$"}})
ADDRESS_V0 = obj({"Name": STRING, "CompanyName": STRING, "AddressLine1": STRING, "AddressLine2": STRING,
                  "AddressLine3": STRING, "City": STRING, "County": STRING, "District": STRING,
                  "StateOrRegion": STRING, "Municipality": STRING, "PostalCode": STRING, "CountryCode": STRING,
                  "Phone": STRING, "AddressType": {"enum": ["Residential", "Commercial"]}})
ORDER_STATUS_V0 = {"enum": ["Pending", "Unshipped", "PartiallyShipped", "Shipped", "Canceled", "Unfulfillable",
                            "InvoiceUnconfirmed", "PendingAvailability"]}
ORDER_V0 = obj({
    "AmazonOrderId": {"type": "string", "pattern": f"^{ORDER_ID}$"},
    "SellerOrderId": STRING,
    "PurchaseDate": DATE_TIME,
    "LastUpdateDate": DATE_TIME,
    "OrderStatus": ORDER_STATUS_V0,
    "FulfillmentChannel": {"enum": ["MFN", "AFN"]},
    "SalesChannel": STRING,
    "OrderChannel": STRING,
    "ShipServiceLevel": STRING,
    "OrderTotal": MONEY_V0,
    "NumberOfItemsShipped": INT,
    "NumberOfItemsUnshipped": INT,
    "PaymentMethod": {"enum": ["COD", "CVS", "Other"]},
    "PaymentMethodDetails": arr(STRING),
    "MarketplaceId": STRING,
    "ShipmentServiceLevelCategory": STRING,
    "OrderType": {"enum": ["StandardOrder", "LongLeadTimeOrder", "Preorder", "BackOrder", "SourcingOnDemandOrder"]},
    "EarliestShipDate": DATE_TIME,
    "LatestShipDate": DATE_TIME,
    "EarliestDeliveryDate": DATE_TIME,
    "LatestDeliveryDate": DATE_TIME,
    "IsBusinessOrder": BOOL,
    "IsPrime": BOOL,
    "IsPremiumOrder": BOOL,
    "IsGlobalExpressEnabled": BOOL,
    "ReplacedOrderId": STRING,
    "IsReplacementOrder": BOOL,
    "PromiseResponseDueDate": DATE_TIME,
    "IsEstimatedShipDateSet": BOOL,
    "IsSoldByAB": BOOL,
    "IsIBA": BOOL,
    "IsISPU": BOOL,
    "IsAccessPointOrder": BOOL,
    "HasRegulatedItems": BOOL,
    "SellerDisplayName": STRING,
    "ShippingAddress": ADDRESS_V0,
    "BuyerInfo": obj({"BuyerEmail": STRING, "BuyerName": STRING, "BuyerCounty": STRING,
                      "PurchaseOrderNumber": STRING}),
}, ("AmazonOrderId", "LastUpdateDate", "OrderStatus", "PurchaseDate"))
ORDER_V0_NO_PII = {**ORDER_V0, "not": {"anyOf": [{"required": ["BuyerInfo"]}, {"required": ["ShippingAddress"]}]}}

ORDER_ITEM_V0 = obj({
    "ASIN": {"type": "string", "pattern": r"^B0[A-Z0-9]{8}$"},
    "SellerSKU": STRING,
    "OrderItemId": STRING,
    "Title": STRING,
    "QuantityOrdered": {"type": "integer", "minimum": 0},
    "QuantityShipped": {"type": "integer", "minimum": 0},
    "ProductInfo": obj({"NumberOfItems": STRING}),
    "ItemPrice": MONEY_V0, "ShippingPrice": MONEY_V0, "ItemTax": MONEY_V0, "ShippingTax": MONEY_V0,
    "ShippingDiscount": MONEY_V0, "PromotionDiscount": MONEY_V0,
    "IsGift": {"enum": ["true", "false"]},
    "ConditionNote": STRING, "ConditionId": STRING, "ConditionSubtypeId": STRING,
    "SerialNumberRequired": BOOL, "IsTransparency": BOOL,
}, ("ASIN", "OrderItemId", "QuantityOrdered"))

GET_ORDERS_200 = obj({"payload": obj({
    "Orders": arr(ORDER_V0_NO_PII), "NextToken": STRING, "LastUpdatedBefore": DATE_TIME, "CreatedBefore": DATE_TIME,
}, ("Orders",))}, ("payload",))
GET_ORDER_200 = obj({"payload": ORDER_V0}, ("payload",))
GET_ORDER_200_NO_PII = obj({"payload": ORDER_V0_NO_PII}, ("payload",))
GET_ORDER_ITEMS_200 = obj({"payload": obj({
    "OrderItems": arr(ORDER_ITEM_V0, 1), "NextToken": STRING, "AmazonOrderId": STRING,
}, ("AmazonOrderId", "OrderItems"))}, ("payload",))
GET_BUYER_INFO_200 = obj({"payload": obj({"AmazonOrderId": STRING, "BuyerEmail": STRING, "BuyerName": STRING,
                                          "BuyerCounty": STRING, "PurchaseOrderNumber": STRING},
                                         ("AmazonOrderId",))}, ("payload",))
GET_ADDRESS_200 = obj({"payload": obj({"AmazonOrderId": STRING, "BuyerCompanyName": STRING,
                                       "ShippingAddress": ADDRESS_V0}, ("AmazonOrderId",))}, ("payload",))

# ---------------------------------------------------------------- Orders 2026-01-01
MONEY_2026 = obj({"amount": {"type": "string", "pattern": r"^-?\d+(\.\d+)?$"}, "currencyCode": STRING},
                 ("amount", "currencyCode"))
RANGE = obj({"earliestDateTime": DATE_TIME, "latestDateTime": DATE_TIME})
ORDER_ITEM_2026 = obj({
    "orderItemId": STRING,
    "quantityOrdered": INT,
    "product": obj({"asin": STRING, "title": STRING, "sellerSku": STRING,
                    "price": obj({"unitPrice": MONEY_2026, "priceDesignation": STRING})}),
    "proceeds": obj({"proceedsTotal": MONEY_2026}),
    "fulfillment": obj({"quantityFulfilled": INT, "quantityUnfulfilled": INT}),
}, ("orderItemId", "quantityOrdered", "product"))
ORDER_PACKAGE_2026 = obj({
    "packageReferenceId": STRING,
    "createdTime": DATE_TIME,
    "packageStatus": obj({"status": {"enum": ["PENDING", "IN_TRANSIT", "SHIPPED", "DELIVERED", "CANCELLED",
                                               "UNDELIVERABLE"]},
                          "detailedStatus": {"enum": [
                              "PENDING_SCHEDULE", "PENDING_PICK_UP", "PENDING_DROP_OFF", "LABEL_CANCELLED",
                              "PICKED_UP", "DROPPED_OFF", "AT_ORIGIN_FC", "AT_DESTINATION_FC", "DELIVERED",
                              "REJECTED_BY_BUYER", "UNDELIVERABLE", "RETURNING_TO_SELLER", "RETURNED_TO_SELLER",
                              "LOST", "OUT_FOR_DELIVERY", "DAMAGED"]}}, ("status",)),
    "carrier": STRING,
    "shipTime": DATE_TIME,
    "shippingService": STRING,
    "trackingNumber": STRING,
    "packageItems": arr(obj({"orderItemId": STRING, "quantity": INT, "transparencyCodes": arr(STRING)},
                            ("orderItemId", "quantity"))),
}, ("packageReferenceId",))
ORDER_2026 = obj({
    "orderId": STRING,
    "createdTime": DATE_TIME,
    "lastUpdatedTime": DATE_TIME,
    "programs": arr(STRING),
    "salesChannel": obj({"channelName": {"enum": ["AMAZON", "NON_AMAZON"]}, "marketplaceId": STRING, "marketplaceName": STRING},
                        ("channelName",)),
    "buyer": obj({"buyerName": STRING, "buyerEmail": STRING, "buyerCompanyName": STRING,
                  "buyerPurchaseOrderNumber": STRING}),
    "recipient": obj({"deliveryAddress": obj({
        "name": STRING, "companyName": STRING, "addressLine1": STRING, "addressLine2": STRING,
        "addressLine3": STRING, "city": STRING, "districtOrCounty": STRING, "stateOrRegion": STRING,
        "municipality": STRING, "postalCode": STRING, "countryCode": STRING, "phone": STRING,
        "addressType": STRING})}),
    "proceeds": obj({"grandTotal": MONEY_2026}),
    "fulfillment": obj({
        "fulfillmentStatus": {"enum": ["PENDING_AVAILABILITY", "PENDING", "UNSHIPPED", "PARTIALLY_SHIPPED",
                                       "SHIPPED", "CANCELLED", "UNFULFILLABLE"]},
        "fulfilledBy": {"enum": ["MERCHANT", "AMAZON"]},
        "fulfillmentServiceLevel": {"enum": ["EXPEDITED", "FREE_ECONOMY", "NEXT_DAY", "PRIORITY", "SAME_DAY",
                                             "SECOND_DAY", "SCHEDULED", "STANDARD"]},
        "shipByWindow": RANGE, "deliverByWindow": RANGE,
    }, ("fulfillmentStatus",)),
    "orderItems": arr(ORDER_ITEM_2026),
    "packages": arr(ORDER_PACKAGE_2026),
}, ("orderId", "createdTime", "lastUpdatedTime", "salesChannel", "orderItems"))
SEARCH_ORDERS_200 = obj({"orders": arr(ORDER_2026), "pagination": obj({"nextToken": STRING}),
                         "lastUpdatedBefore": DATE_TIME, "createdBefore": DATE_TIME}, ("orders",))
GET_ORDER_2026_200 = obj({"order": ORDER_2026}, ("order",))

# ---------------------------------------------------------------- Tokens
RDT_200 = obj({"restrictedDataToken": STRING, "expiresIn": INT}, ("restrictedDataToken", "expiresIn"))

# ---------------------------------------------------------------- Messaging / Solicitations (HAL)
LINK = obj({"href": STRING, "name": STRING}, ("href",))


def _actions_response(action_payload: dict) -> dict:
    action = obj({
        "_links": obj({"self": LINK, "schema": LINK}, ("schema", "self")),
        "_embedded": obj({"schema": {"type": "object"}}),
        "payload": action_payload,
    })
    return obj({
        "_links": obj({"self": LINK, "actions": arr(LINK)}, ("actions", "self")),
        "_embedded": obj({"actions": arr(action)}, ("actions",)),
    })


MESSAGING_ACTIONS_200 = _actions_response(obj({"name": STRING}, ("name",)))
ATTRIBUTES_200 = obj({"buyer": obj({"locale": {"type": "string", "pattern": r"^[a-z]{2}-[A-Z]{2}$"}})})
EMPTY_201 = obj({})
SOLICITATION_ACTIONS_200 = _actions_response(obj({"name": {"const": "productReviewAndSellerFeedback"}}, ("name",)))

# ---------------------------------------------------------------- Reports
CREATE_REPORT_202 = obj({"reportId": STRING}, ("reportId",))
REPORT_200 = obj({
    "marketplaceIds": arr(STRING), "reportId": STRING, "reportType": STRING,
    "dataStartTime": DATE_TIME, "dataEndTime": DATE_TIME, "reportScheduleId": STRING,
    "createdTime": DATE_TIME,
    "processingStatus": {"enum": ["CANCELLED", "DONE", "FATAL", "IN_PROGRESS", "IN_QUEUE"]},
    "processingStartTime": DATE_TIME, "processingEndTime": DATE_TIME, "reportDocumentId": STRING,
}, ("processingStatus", "reportId", "reportType", "createdTime"))
REPORT_DOCUMENT_200 = obj({"reportDocumentId": STRING, "url": {"type": "string", "pattern": "^https?://"},
                           "compressionAlgorithm": {"enum": ["GZIP"]}}, ("reportDocumentId", "url"))

# ---------------------------------------------------------------- LWA
LWA_200 = obj({"access_token": {"type": "string", "pattern": r"^Atza\|"}, "refresh_token": STRING,
               "token_type": {"const": "bearer"}, "expires_in": {"const": 3600}},
              ("access_token", "token_type", "expires_in"))
LWA_ERROR = obj({"error": {"enum": ["invalid_request", "invalid_client", "invalid_grant", "unauthorized_client",
                                    "unsupported_grant_type", "invalid_scope"]},
                 "error_description": STRING}, ("error",))

# ---------------------------------------------------------------- per operation and status
_ERR_V0 = ERROR_RESPONSE     # v0 / messaging / solicitations error bodies
_ERR_OBJ = ERROR_LIST        # reports / tokens / 2026
_STD_ERRORS = (400, 403, 404, 429, 500, 503)

RESPONSES: dict[tuple[str, int], dict] = {}


def _register(op: str, ok_status: int, ok_schema: dict, err_schema: dict) -> None:
    RESPONSES[(op, ok_status)] = ok_schema
    for s in _STD_ERRORS:
        RESPONSES[(op, s)] = err_schema


_register("getOrders", 200, GET_ORDERS_200, _ERR_V0)
_register("getOrder", 200, GET_ORDER_200_NO_PII, _ERR_V0)
_register("getOrderItems", 200, GET_ORDER_ITEMS_200, _ERR_V0)
_register("getOrderBuyerInfo", 200, GET_BUYER_INFO_200, _ERR_V0)
_register("getOrderAddress", 200, GET_ADDRESS_200, _ERR_V0)
_register("searchOrders", 200, SEARCH_ORDERS_200, _ERR_OBJ)
_register("getOrder2026", 200, GET_ORDER_2026_200, _ERR_OBJ)
_register("createRestrictedDataToken", 200, RDT_200, _ERR_OBJ)
_register("getMessagingActionsForOrder", 200, MESSAGING_ACTIONS_200, _ERR_V0)
_register("GetAttributes", 200, ATTRIBUTES_200, _ERR_V0)
for _op in ("confirmCustomizationDetails", "createConfirmDeliveryDetails", "createLegalDisclosure",
            "createConfirmOrderDetails", "createConfirmServiceDetails", "CreateWarranty", "createDigitalAccessKey",
            "createUnexpectedProblem", "sendInvoice", "createProductReviewAndSellerFeedbackSolicitation"):
    _register(_op, 201, EMPTY_201, _ERR_V0)
_register("getSolicitationActionsForOrder", 200, SOLICITATION_ACTIONS_200, _ERR_V0)
_register("createReport", 202, CREATE_REPORT_202, _ERR_OBJ)
_register("getReport", 200, REPORT_200, _ERR_OBJ)
_register("getReportDocument", 200, REPORT_DOCUMENT_200, _ERR_OBJ)
RESPONSES[("lwaToken", 200)] = LWA_200
for _s in (400, 401):
    RESPONSES[("lwaToken", _s)] = LWA_ERROR


def schema_for(operation: str, status: int) -> dict:
    try:
        return RESPONSES[(operation, status)]
    except KeyError:
        raise KeyError(f"no schema for {operation} {status}: the models define no such response") from None


def validate(operation: str, status: int, body: Any) -> None:
    """Raise ``jsonschema.ValidationError`` if ``body`` is not a valid ``status`` response."""
    import jsonschema

    jsonschema.Draft202012Validator(schema_for(operation, status),
                                    format_checker=jsonschema.FormatChecker()).validate(body)
