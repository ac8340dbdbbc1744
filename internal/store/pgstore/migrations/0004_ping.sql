-- 0004: Store.Ping commits a write here, so that it fails exactly when commits fail.
CREATE TABLE ping (
    id integer     PRIMARY KEY,
    at timestamptz NOT NULL
);
