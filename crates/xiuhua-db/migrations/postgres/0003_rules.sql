-- Rule sets (policy as data) and the results of applying them.
-- `rule_sets` keeps every version that was ever loaded (shipped or by a county admin), so a
-- stored result can be re-explained with exactly the rules that produced it.
CREATE TABLE rule_sets (
    id TEXT NOT NULL,
    version BIGINT NOT NULL,
    source TEXT NOT NULL,
    origin TEXT NOT NULL,
    loaded_by TEXT NOT NULL,
    loaded_at TEXT NOT NULL,
    PRIMARY KEY (id, version)
);

-- One evaluation run: a rule-set version over a region's households as of a date.
CREATE TABLE rule_runs (
    id BIGINT PRIMARY KEY,
    rule_set TEXT NOT NULL,
    version BIGINT NOT NULL,
    region_code TEXT NOT NULL,
    as_of TEXT NOT NULL,
    actor TEXT NOT NULL,
    started_at TEXT NOT NULL,
    finished_at TEXT NOT NULL,
    units BIGINT NOT NULL,
    holds BIGINT NOT NULL,
    fails BIGINT NOT NULL,
    unknowns BIGINT NOT NULL
);
CREATE INDEX rule_runs_set ON rule_runs (rule_set, started_at);

-- One row per unit (household id, or region code) and run. `items` holds one character per item
-- in file order: P pass, F fail, U unknown; `points` the score items' points as JSON.
CREATE TABLE rule_results (
    run_id BIGINT NOT NULL,
    unit TEXT NOT NULL,
    village_code TEXT NOT NULL,
    decision TEXT NOT NULL,
    score DOUBLE PRECISION,
    items TEXT NOT NULL,
    PRIMARY KEY (run_id, unit)
);
CREATE INDEX rule_results_unit ON rule_results (unit, run_id);
