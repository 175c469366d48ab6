#!/usr/bin/env bash
# Seeds a small but realistic demo database (a family budget tracker) at $1, in WAL mode.
# Does nothing when the file already exists: an operator's data is never overwritten.
set -euo pipefail
db="${1:?usage: seed-demo.sh PATH}"
if [ -e "$db" ]; then
  echo "demo database: $db exists, left as it is"
  exit 0
fi
mkdir -p "$(dirname "$db")"
sqlite3 "$db" <<'SQL'
PRAGMA journal_mode = WAL;
CREATE TABLE member(id INTEGER PRIMARY KEY, name TEXT NOT NULL);
CREATE TABLE category(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, monthly_budget_cents INTEGER NOT NULL);
CREATE TABLE account(id INTEGER PRIMARY KEY, name TEXT NOT NULL, currency TEXT NOT NULL DEFAULT 'EUR');
CREATE TABLE expense(
  id INTEGER PRIMARY KEY,
  account_id INTEGER NOT NULL REFERENCES account(id),
  category_id INTEGER NOT NULL REFERENCES category(id),
  member_id INTEGER NOT NULL REFERENCES member(id),
  spent_on TEXT NOT NULL,
  amount_cents INTEGER NOT NULL,
  note TEXT
);
CREATE INDEX expense_by_date ON expense(spent_on);
INSERT INTO member(name) VALUES ('Anna'), ('Boris'), ('Clara');
INSERT INTO account(name) VALUES ('Checking'), ('Savings'), ('Cash');
INSERT INTO category(name, monthly_budget_cents) VALUES
  ('Groceries', 60000), ('Rent', 120000), ('Transport', 15000), ('Utilities', 20000),
  ('Eating out', 18000), ('Health', 8000), ('Kids', 25000), ('Holidays', 30000);
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 8000)
INSERT INTO expense(account_id, category_id, member_id, spent_on, amount_cents, note)
SELECT 1 + abs(random()) % 3, 1 + abs(random()) % 8, 1 + abs(random()) % 3,
       date('2025-01-01', '+' || (i % 690) || ' days'), 100 + abs(random()) % 20000,
       CASE WHEN i % 7 = 0 THEN 'receipt #' || i ELSE NULL END
FROM n;
PRAGMA user_version = 3;
SQL
echo "demo database: seeded $db ($(sqlite3 "$db" 'SELECT COUNT(*) FROM expense') expenses)"
