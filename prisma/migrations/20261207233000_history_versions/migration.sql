-- CreateTable
CREATE TABLE "market_version" (
    "id" TEXT NOT NULL,
    "version_block" BIGINT NOT NULL,
    "initial_margin_fraction" DECIMAL(78,18) NOT NULL,
    "maintenance_margin_fraction" DECIMAL(78,18) NOT NULL,
    "implied_volatility" DECIMAL(78,18),
    "last_fill_price" DECIMAL(78,18),
    "cumulative_funding" DECIMAL(78,18) NOT NULL,
    "last_funding_rate" DECIMAL(78,18),
    "funding_premium" DECIMAL(78,18),
    "funding_period" BIGINT NOT NULL,
    "funding_weighted_premium" DECIMAL(78,18) NOT NULL,
    "funding_covered_seconds" BIGINT NOT NULL,
    "funding_accounted_until" BIGINT NOT NULL,
    "settlement_price" DECIMAL(78,18),
    "settled_block" BIGINT,
    "updated_block" BIGINT NOT NULL,

    CONSTRAINT "market_version_pkey" PRIMARY KEY ("id","version_block")
);

-- CreateTable
CREATE TABLE "underlying_version" (
    "id" TEXT NOT NULL,
    "version_block" BIGINT NOT NULL,
    "index_price" DECIMAL(78,18),
    "index_stale" BOOLEAN NOT NULL,
    "updated_block" BIGINT NOT NULL,

    CONSTRAINT "underlying_version_pkey" PRIMARY KEY ("id","version_block")
);

-- CreateTable
CREATE TABLE "oracle_source_version" (
    "underlying" TEXT NOT NULL,
    "source" TEXT NOT NULL,
    "version_block" BIGINT NOT NULL,
    "price" DECIMAL(78,18) NOT NULL,
    "timestamp" BIGINT NOT NULL,
    "block_number" BIGINT NOT NULL,

    CONSTRAINT "oracle_source_version_pkey" PRIMARY KEY ("underlying","source","version_block")
);

-- CreateTable
CREATE TABLE "account_version" (
    "id" TEXT NOT NULL,
    "version_block" BIGINT NOT NULL,
    "collateral" DECIMAL(78,18) NOT NULL,
    "margin_state" "margin_state" NOT NULL,
    "updated_block" BIGINT NOT NULL,

    CONSTRAINT "account_version_pkey" PRIMARY KEY ("id","version_block")
);

-- CreateTable
CREATE TABLE "position_version" (
    "id" TEXT NOT NULL,
    "version_block" BIGINT NOT NULL,
    "size" DECIMAL(78,18) NOT NULL,
    "entry_price" DECIMAL(78,18),
    "realized_pnl" DECIMAL(78,18) NOT NULL,
    "funding_snapshot" DECIMAL(78,18) NOT NULL,
    "settled_funding" DECIMAL(78,18) NOT NULL,
    "fees_paid" DECIMAL(78,18) NOT NULL,
    "closed_block" BIGINT,
    "updated_block" BIGINT NOT NULL,

    CONSTRAINT "position_version_pkey" PRIMARY KEY ("id","version_block")
);

-- CreateTable
CREATE TABLE "history_horizon" (
    "id" INTEGER NOT NULL DEFAULT 1,
    "first_block" BIGINT NOT NULL,

    CONSTRAINT "history_horizon_pkey" PRIMARY KEY ("id")
);


-- CreateIndex
CREATE INDEX "block_hash_idx" ON "block"("hash");

-- CreateIndex
CREATE INDEX "block_timestamp_number_idx" ON "block"("timestamp", "number");

-- Versions of the rows that exist now, at the block that last changed them: a database
-- ingested before this migration can be read back from its current block on (the
-- horizon); older blocks had no versions written.
INSERT INTO "market_version" SELECT "id", "updated_block", "initial_margin_fraction", "maintenance_margin_fraction",
  "implied_volatility", "last_fill_price", "cumulative_funding", "last_funding_rate", "funding_premium", "funding_period",
  "funding_weighted_premium", "funding_covered_seconds", "funding_accounted_until", "settlement_price", "settled_block",
  "updated_block" FROM "market";
INSERT INTO "underlying_version" SELECT "id", "updated_block", "index_price", "index_stale", "updated_block" FROM "underlying";
INSERT INTO "oracle_source_version" SELECT "underlying", "source", "block_number", "price", "timestamp", "block_number" FROM "oracle_source";
INSERT INTO "account_version" SELECT "id", "updated_block", "collateral", "margin_state", "updated_block" FROM "account";
INSERT INTO "position_version" SELECT "id", "updated_block", "size", "entry_price", "realized_pnl", "funding_snapshot",
  "settled_funding", "fees_paid", "closed_block", "updated_block" FROM "position";
INSERT INTO "history_horizon" ("id", "first_block") SELECT 1, "block_number" FROM "cursor" WHERE "id" = 1;

-- Schema "pts_past": every ledger table as of the block in the transaction's setting
-- `pts.block` (src/graphql/past-block.ts sets it and puts this schema first on the
-- search_path, so the API's SQL reads the past unchanged). Columns in the tables' order.
-- Mutable tables: each current row (its immutable columns) with its newest version at or
-- before the block; a row with no such version did not exist yet. History tables: the
-- rows of blocks up to it. The views must follow any change of these tables' columns.
CREATE SCHEMA "pts_past";

CREATE VIEW "pts_past"."market" AS
SELECT t."id", t."underlying", t."kind", t."strike", t."expiry", v."initial_margin_fraction", v."maintenance_margin_fraction",
       t."funding_interval", t."max_funding_rate", v."implied_volatility", v."last_fill_price", v."cumulative_funding",
       v."last_funding_rate", v."funding_premium", v."funding_period", v."funding_weighted_premium", v."funding_covered_seconds",
       v."funding_accounted_until", v."settlement_price", v."settled_block", t."venue", t."listed_block", v."updated_block"
  FROM "public"."market" t
  CROSS JOIN LATERAL (SELECT * FROM "public"."market_version" x WHERE x."id" = t."id"
                         AND x."version_block" <= current_setting('pts.block')::int8
                       ORDER BY x."version_block" DESC LIMIT 1) v;

CREATE VIEW "pts_past"."underlying" AS
SELECT t."id", v."index_price", v."index_stale", v."updated_block"
  FROM "public"."underlying" t
  CROSS JOIN LATERAL (SELECT * FROM "public"."underlying_version" x WHERE x."id" = t."id"
                         AND x."version_block" <= current_setting('pts.block')::int8
                       ORDER BY x."version_block" DESC LIMIT 1) v;

CREATE VIEW "pts_past"."oracle_source" AS
SELECT t."underlying", t."source", v."price", v."timestamp", v."block_number"
  FROM "public"."oracle_source" t
  CROSS JOIN LATERAL (SELECT * FROM "public"."oracle_source_version" x WHERE x."underlying" = t."underlying"
                         AND x."source" = t."source" AND x."version_block" <= current_setting('pts.block')::int8
                       ORDER BY x."version_block" DESC LIMIT 1) v;

CREATE VIEW "pts_past"."account" AS
SELECT t."id", t."owner", t."subaccount", v."collateral", v."margin_state", t."created_block", v."updated_block"
  FROM "public"."account" t
  CROSS JOIN LATERAL (SELECT * FROM "public"."account_version" x WHERE x."id" = t."id"
                         AND x."version_block" <= current_setting('pts.block')::int8
                       ORDER BY x."version_block" DESC LIMIT 1) v;

CREATE VIEW "pts_past"."position" AS
SELECT t."id", t."account_id", t."market_id", t."seq", v."size", v."entry_price", v."realized_pnl", v."funding_snapshot",
       v."settled_funding", v."fees_paid", t."opened_block", v."closed_block", v."updated_block"
  FROM "public"."position" t
  CROSS JOIN LATERAL (SELECT * FROM "public"."position_version" x WHERE x."id" = t."id"
                         AND x."version_block" <= current_setting('pts.block')::int8
                       ORDER BY x."version_block" DESC LIMIT 1) v;

-- The block as the last committed one (the head seen stays the current one: it is not
-- part of the block's state).
CREATE VIEW "pts_past"."cursor" AS
SELECT c."id", c."chain_id", b."number" AS "block_number", b."hash" AS "block_hash", b."timestamp" AS "block_timestamp",
       c."head_block_number"
  FROM "public"."cursor" c JOIN "public"."block" b ON b."number" = current_setting('pts.block')::int8;

CREATE VIEW "pts_past"."block" AS SELECT * FROM "public"."block" WHERE "number" <= current_setting('pts.block')::int8;
CREATE VIEW "pts_past"."fill" AS SELECT * FROM "public"."fill" WHERE "block_number" <= current_setting('pts.block')::int8;
CREATE VIEW "pts_past"."collateral_transfer" AS SELECT * FROM "public"."collateral_transfer" WHERE "block_number" <= current_setting('pts.block')::int8;
CREATE VIEW "pts_past"."price_report" AS SELECT * FROM "public"."price_report" WHERE "block_number" <= current_setting('pts.block')::int8;
CREATE VIEW "pts_past"."volatility_report" AS SELECT * FROM "public"."volatility_report" WHERE "block_number" <= current_setting('pts.block')::int8;
CREATE VIEW "pts_past"."margin_fraction_update" AS SELECT * FROM "public"."margin_fraction_update" WHERE "block_number" <= current_setting('pts.block')::int8;
CREATE VIEW "pts_past"."index_price" AS SELECT * FROM "public"."index_price" WHERE "block_number" <= current_setting('pts.block')::int8;
CREATE VIEW "pts_past"."funding_sample" AS SELECT * FROM "public"."funding_sample" WHERE "block_number" <= current_setting('pts.block')::int8;
CREATE VIEW "pts_past"."funding_settlement" AS SELECT * FROM "public"."funding_settlement" WHERE "block_number" <= current_setting('pts.block')::int8;
CREATE VIEW "pts_past"."option_settlement" AS SELECT * FROM "public"."option_settlement" WHERE "block_number" <= current_setting('pts.block')::int8;
CREATE VIEW "pts_past"."margin_transition" AS SELECT * FROM "public"."margin_transition" WHERE "block_number" <= current_setting('pts.block')::int8;
CREATE VIEW "pts_past"."anomaly" AS SELECT * FROM "public"."anomaly" WHERE "block_number" <= current_setting('pts.block')::int8;
