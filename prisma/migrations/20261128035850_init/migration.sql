-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "public";

-- CreateEnum
CREATE TYPE "market_kind" AS ENUM ('PERPETUAL', 'CALL', 'PUT');

-- CreateEnum
CREATE TYPE "margin_state" AS ENUM ('HEALTHY', 'MARGIN_CALL', 'LIQUIDATABLE', 'BANKRUPT');

-- CreateEnum
CREATE TYPE "transfer_kind" AS ENUM ('DEPOSIT', 'WITHDRAWAL');

-- CreateTable
CREATE TABLE "cursor" (
    "id" INTEGER NOT NULL DEFAULT 1,
    "chain_id" BIGINT NOT NULL,
    "block_number" BIGINT NOT NULL,
    "block_hash" TEXT NOT NULL,
    "block_timestamp" BIGINT NOT NULL,
    "head_block_number" BIGINT NOT NULL,

    CONSTRAINT "cursor_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "block" (
    "number" BIGINT NOT NULL,
    "hash" TEXT NOT NULL,
    "parent_hash" TEXT NOT NULL,
    "timestamp" BIGINT NOT NULL,
    "event_count" INTEGER NOT NULL,

    CONSTRAINT "block_pkey" PRIMARY KEY ("number")
);

-- CreateTable
CREATE TABLE "undo_log" (
    "block_number" BIGINT NOT NULL,
    "entries" JSONB NOT NULL,

    CONSTRAINT "undo_log_pkey" PRIMARY KEY ("block_number")
);

-- CreateTable
CREATE TABLE "market" (
    "id" TEXT NOT NULL,
    "underlying" TEXT NOT NULL,
    "kind" "market_kind" NOT NULL,
    "strike" DECIMAL(78,18) NOT NULL,
    "expiry" BIGINT NOT NULL,
    "initial_margin_fraction" DECIMAL(78,18) NOT NULL,
    "maintenance_margin_fraction" DECIMAL(78,18) NOT NULL,
    "funding_interval" BIGINT NOT NULL,
    "max_funding_rate" DECIMAL(78,18) NOT NULL,
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
    "venue" TEXT NOT NULL,
    "listed_block" BIGINT NOT NULL,
    "updated_block" BIGINT NOT NULL,

    CONSTRAINT "market_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "underlying" (
    "id" TEXT NOT NULL,
    "index_price" DECIMAL(78,18),
    "index_stale" BOOLEAN NOT NULL,
    "updated_block" BIGINT NOT NULL,

    CONSTRAINT "underlying_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "oracle_source" (
    "underlying" TEXT NOT NULL,
    "source" TEXT NOT NULL,
    "price" DECIMAL(78,18) NOT NULL,
    "timestamp" BIGINT NOT NULL,
    "block_number" BIGINT NOT NULL,

    CONSTRAINT "oracle_source_pkey" PRIMARY KEY ("underlying","source")
);

-- CreateTable
CREATE TABLE "price_report" (
    "block_number" BIGINT NOT NULL,
    "log_index" INTEGER NOT NULL,
    "transaction_hash" TEXT NOT NULL,
    "timestamp" BIGINT NOT NULL,
    "underlying" TEXT NOT NULL,
    "source" TEXT NOT NULL,
    "price" DECIMAL(78,18) NOT NULL,

    CONSTRAINT "price_report_pkey" PRIMARY KEY ("block_number","log_index")
);

-- CreateTable
CREATE TABLE "index_price" (
    "underlying" TEXT NOT NULL,
    "block_number" BIGINT NOT NULL,
    "timestamp" BIGINT NOT NULL,
    "price" DECIMAL(78,18) NOT NULL,
    "stale" BOOLEAN NOT NULL,

    CONSTRAINT "index_price_pkey" PRIMARY KEY ("underlying","block_number")
);

-- CreateTable
CREATE TABLE "volatility_report" (
    "block_number" BIGINT NOT NULL,
    "log_index" INTEGER NOT NULL,
    "transaction_hash" TEXT NOT NULL,
    "timestamp" BIGINT NOT NULL,
    "market_id" TEXT NOT NULL,
    "implied_volatility" DECIMAL(78,18) NOT NULL,

    CONSTRAINT "volatility_report_pkey" PRIMARY KEY ("block_number","log_index")
);

-- CreateTable
CREATE TABLE "margin_fraction_update" (
    "block_number" BIGINT NOT NULL,
    "log_index" INTEGER NOT NULL,
    "transaction_hash" TEXT NOT NULL,
    "timestamp" BIGINT NOT NULL,
    "market_id" TEXT NOT NULL,
    "initial_margin_fraction" DECIMAL(78,18) NOT NULL,
    "maintenance_margin_fraction" DECIMAL(78,18) NOT NULL,

    CONSTRAINT "margin_fraction_update_pkey" PRIMARY KEY ("block_number","log_index")
);

-- CreateTable
CREATE TABLE "funding_sample" (
    "market_id" TEXT NOT NULL,
    "block_number" BIGINT NOT NULL,
    "timestamp" BIGINT NOT NULL,
    "premium" DECIMAL(78,18),

    CONSTRAINT "funding_sample_pkey" PRIMARY KEY ("market_id","block_number")
);

-- CreateTable
CREATE TABLE "funding_settlement" (
    "market_id" TEXT NOT NULL,
    "period" BIGINT NOT NULL,
    "periods" BIGINT NOT NULL,
    "rate" DECIMAL(78,18) NOT NULL,
    "index_price" DECIMAL(78,18) NOT NULL,
    "cumulative_funding" DECIMAL(78,18) NOT NULL,
    "block_number" BIGINT NOT NULL,
    "timestamp" BIGINT NOT NULL,

    CONSTRAINT "funding_settlement_pkey" PRIMARY KEY ("market_id","period")
);

-- CreateTable
CREATE TABLE "account" (
    "id" TEXT NOT NULL,
    "owner" TEXT NOT NULL,
    "subaccount" BIGINT NOT NULL,
    "collateral" DECIMAL(78,18) NOT NULL,
    "margin_state" "margin_state" NOT NULL,
    "created_block" BIGINT NOT NULL,
    "updated_block" BIGINT NOT NULL,

    CONSTRAINT "account_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "position" (
    "id" TEXT NOT NULL,
    "account_id" TEXT NOT NULL,
    "market_id" TEXT NOT NULL,
    "seq" INTEGER NOT NULL,
    "size" DECIMAL(78,18) NOT NULL,
    "entry_price" DECIMAL(78,18),
    "realized_pnl" DECIMAL(78,18) NOT NULL,
    "funding_snapshot" DECIMAL(78,18) NOT NULL,
    "settled_funding" DECIMAL(78,18) NOT NULL,
    "fees_paid" DECIMAL(78,18) NOT NULL,
    "opened_block" BIGINT NOT NULL,
    "closed_block" BIGINT,
    "updated_block" BIGINT NOT NULL,

    CONSTRAINT "position_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "fill" (
    "block_number" BIGINT NOT NULL,
    "log_index" INTEGER NOT NULL,
    "transaction_hash" TEXT NOT NULL,
    "transaction_index" INTEGER NOT NULL,
    "timestamp" BIGINT NOT NULL,
    "market_id" TEXT NOT NULL,
    "account_id" TEXT NOT NULL,
    "position_id" TEXT NOT NULL,
    "size" DECIMAL(78,18) NOT NULL,
    "price" DECIMAL(78,18) NOT NULL,
    "fee" DECIMAL(78,18) NOT NULL,
    "realized_pnl" DECIMAL(78,18) NOT NULL,
    "liquidation" BOOLEAN NOT NULL,
    "liquidator" TEXT,
    "penalty" DECIMAL(78,18),

    CONSTRAINT "fill_pkey" PRIMARY KEY ("block_number","log_index")
);

-- CreateTable
CREATE TABLE "collateral_transfer" (
    "block_number" BIGINT NOT NULL,
    "log_index" INTEGER NOT NULL,
    "transaction_hash" TEXT NOT NULL,
    "timestamp" BIGINT NOT NULL,
    "account_id" TEXT NOT NULL,
    "kind" "transfer_kind" NOT NULL,
    "amount" DECIMAL(78,18) NOT NULL,
    "collateral_after" DECIMAL(78,18) NOT NULL,

    CONSTRAINT "collateral_transfer_pkey" PRIMARY KEY ("block_number","log_index")
);

-- CreateTable
CREATE TABLE "option_settlement" (
    "position_id" TEXT NOT NULL,
    "market_id" TEXT NOT NULL,
    "account_id" TEXT NOT NULL,
    "block_number" BIGINT NOT NULL,
    "timestamp" BIGINT NOT NULL,
    "size" DECIMAL(78,18) NOT NULL,
    "settlement_price" DECIMAL(78,18) NOT NULL,
    "payout" DECIMAL(78,18) NOT NULL,

    CONSTRAINT "option_settlement_pkey" PRIMARY KEY ("position_id")
);

-- CreateTable
CREATE TABLE "margin_transition" (
    "account_id" TEXT NOT NULL,
    "block_number" BIGINT NOT NULL,
    "timestamp" BIGINT NOT NULL,
    "from" "margin_state" NOT NULL,
    "to" "margin_state" NOT NULL,
    "equity" DECIMAL(78,18) NOT NULL,
    "initial_margin" DECIMAL(78,18) NOT NULL,
    "maintenance_margin" DECIMAL(78,18) NOT NULL,

    CONSTRAINT "margin_transition_pkey" PRIMARY KEY ("account_id","block_number")
);

-- CreateTable
CREATE TABLE "anomaly" (
    "block_number" BIGINT NOT NULL,
    "seq" INTEGER NOT NULL,
    "log_index" INTEGER,
    "transaction_hash" TEXT,
    "venue" TEXT,
    "kind" TEXT NOT NULL,
    "message" TEXT NOT NULL,
    "data" JSONB,

    CONSTRAINT "anomaly_pkey" PRIMARY KEY ("block_number","seq")
);

-- CreateIndex
CREATE INDEX "market_underlying_idx" ON "market"("underlying");

-- CreateIndex
CREATE INDEX "price_report_underlying_block_number_idx" ON "price_report"("underlying", "block_number");

-- CreateIndex
CREATE INDEX "index_price_block_number_idx" ON "index_price"("block_number");

-- CreateIndex
CREATE INDEX "volatility_report_market_id_block_number_idx" ON "volatility_report"("market_id", "block_number");

-- CreateIndex
CREATE INDEX "margin_fraction_update_market_id_block_number_idx" ON "margin_fraction_update"("market_id", "block_number");

-- CreateIndex
CREATE INDEX "funding_settlement_block_number_idx" ON "funding_settlement"("block_number");

-- CreateIndex
CREATE INDEX "account_margin_state_id_idx" ON "account"("margin_state", "id");

-- CreateIndex
CREATE UNIQUE INDEX "account_owner_subaccount_key" ON "account"("owner", "subaccount");

-- CreateIndex
CREATE INDEX "position_market_id_closed_block_idx" ON "position"("market_id", "closed_block");

-- CreateIndex
CREATE INDEX "position_account_id_closed_block_idx" ON "position"("account_id", "closed_block");

-- CreateIndex
CREATE UNIQUE INDEX "position_account_id_market_id_seq_key" ON "position"("account_id", "market_id", "seq");

-- CreateIndex
CREATE INDEX "fill_account_id_block_number_log_index_idx" ON "fill"("account_id", "block_number", "log_index");

-- CreateIndex
CREATE INDEX "fill_market_id_block_number_log_index_idx" ON "fill"("market_id", "block_number", "log_index");

-- CreateIndex
CREATE INDEX "fill_position_id_idx" ON "fill"("position_id");

-- CreateIndex
CREATE INDEX "collateral_transfer_account_id_block_number_log_index_idx" ON "collateral_transfer"("account_id", "block_number", "log_index");

-- CreateIndex
CREATE INDEX "option_settlement_account_id_block_number_idx" ON "option_settlement"("account_id", "block_number");

-- CreateIndex
CREATE INDEX "option_settlement_block_number_idx" ON "option_settlement"("block_number");

-- CreateIndex
CREATE INDEX "margin_transition_block_number_idx" ON "margin_transition"("block_number");

-- CreateIndex
CREATE INDEX "anomaly_kind_block_number_idx" ON "anomaly"("kind", "block_number");

