-- An account's margin state changes at every transition: thousands of rows in one price
-- tick, a hundred thousand in a large move at a million accounts. Indexed, each of those
-- updates rewrote every index of the row (no HOT update); unindexed, it stays on its page.
-- Measured on 200,000 accounts, 20,000 state changes in one statement: 2.4-3.7 s with the
-- index, 0.32-0.45 s without. Risk-ordered lists and their counts take the state from the
-- API's risk engine; an id-ordered `accounts(marginState:)` without it walks the primary key.
DROP INDEX "account_margin_state_id_idx";
