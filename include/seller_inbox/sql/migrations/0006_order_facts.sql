-- 0102 order facts: the packages of merchant-fulfilled orders (carrier, tracking number, ship
-- time, status) from Orders 2026-01-01 includedData=PACKAGES, and one view with every fact a
-- template or the review-request scan may state about an order.
--
-- Orders v0 has no way to read tracking (it only confirms shipments), and Amazon serves
-- packages for merchant-fulfilled orders only: FBA orders keep the promised windows alone.
-- The API gives a package's status but no delivery time, so delivered_seen_at is the first
-- time ingestion saw DELIVERED (an upper bound, within one refresh of the true time).

CREATE TABLE IF NOT EXISTS raw.order_packages (
    amazon_order_id      text        NOT NULL REFERENCES raw.orders ON DELETE CASCADE,
    package_reference_id text        NOT NULL,
    store_id             text        NOT NULL,
    carrier              text,
    shipping_service     text,
    tracking_number      text,
    created_time         timestamptz,                  -- label created
    ship_time            timestamptz,                  -- handed to the carrier
    package_status       text,                         -- PENDING, IN_TRANSIT, SHIPPED, DELIVERED, CANCELLED, UNDELIVERABLE
    detailed_status      text,                         -- e.g. OUT_FOR_DELIVERY, RETURNING_TO_SELLER
    delivered_seen_at    timestamptz,                  -- first seen DELIVERED (the API gives no delivery time)
    loaded_at            timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (amazon_order_id, package_reference_id)
);
CREATE INDEX IF NOT EXISTS order_packages_store ON raw.order_packages (store_id, package_status);
COMMENT ON TABLE raw.order_packages IS 'One row per package of a merchant-fulfilled order (Orders 2026-01-01 packages): carrier, tracking number, ship time, status; rewritten only when a value changed.';

-- One row per order: what templates may say. return_window_end: Amazon's standard 30 days from
-- delivery (or from the latest promised delivery while the delivery is not known).
CREATE OR REPLACE VIEW core.order_facts AS
SELECT o.amazon_order_id, o.store_id, o.marketplace, o.marketplace_id, o.order_status, o.fulfillment_channel,
       o.purchase_date, o.earliest_ship_date, o.latest_ship_date,
       o.earliest_delivery_date, o.latest_delivery_date,
       p.packages, p.carrier, p.tracking_number, p.ship_date, p.package_status,
       p.delivered_at,
       COALESCE(p.delivered_at, o.latest_delivery_date) + interval '30 days' AS return_window_end
FROM raw.orders o
LEFT JOIN LATERAL (
    SELECT count(*)::int AS packages,
           (array_agg(k.carrier ORDER BY k.package_reference_id))[1] AS carrier,
           (array_agg(k.tracking_number ORDER BY k.package_reference_id))[1] AS tracking_number,
           min(k.ship_time) AS ship_date,
           CASE WHEN bool_and(k.package_status = 'DELIVERED') THEN 'DELIVERED'
                WHEN bool_or(k.package_status = 'UNDELIVERABLE') THEN 'UNDELIVERABLE'
                ELSE (array_agg(k.package_status ORDER BY k.package_reference_id))[1] END AS package_status,
           CASE WHEN bool_and(k.package_status = 'DELIVERED') THEN max(k.delivered_seen_at) END AS delivered_at
    FROM raw.order_packages k WHERE k.amazon_order_id = o.amazon_order_id
    HAVING count(*) > 0
) p ON true;
COMMENT ON VIEW core.order_facts IS 'One row per order: status, promised ship/delivery windows, first package carrier and tracking number, ship date, delivery (all packages delivered) and the return window end.';

-- One row per buyer-facing SP-API send (review request, proactive message), written before and
-- after the call: after a crash, "never called" is known for sure, so only a call whose answer
-- was lost is left for the API (or a person) to settle. Keyed like core.outbox.
CREATE TABLE IF NOT EXISTS ops.spapi_sends (
    idempotency_key  text        PRIMARY KEY,
    store_id         text        NOT NULL,
    operation        text        NOT NULL,
    order_id         text        NOT NULL,
    phase            text        NOT NULL CHECK (phase IN ('calling', 'accepted', 'refused', 'unknown')),
    request_id       text,                          -- x-amzn-RequestId of the accepting answer
    detail           text,                          -- refusal or error, one line
    started_at       timestamptz NOT NULL DEFAULT now(),
    finished_at      timestamptz
);
COMMENT ON TABLE ops.spapi_sends IS 'Journal of buyer-facing SP-API calls (solicitations, messaging): calling before the request, accepted/refused/unknown after; crash reconciliation reads it.';
