-- Training needs of libraries, from the volunteers service's training.needed / training_need.met events, and
-- the purchase request drafts this service makes of them (requested by `system:training-needs`, for a budget
-- holder to approve like any other purchase).
CREATE TABLE training_needs (
    id              uuid PRIMARY KEY,      -- the volunteers service's need id
    library         text NOT NULL,
    municipality    text NOT NULL,
    qualification   text NOT NULL,
    volunteers      integer NOT NULL,
    expiring        integer NOT NULL,
    refused         integer NOT NULL,
    needed_by       date NOT NULL,
    validity_months integer,
    revision        integer NOT NULL,      -- the newest revision wins; older events change nothing
    met             boolean NOT NULL DEFAULT false,
    purchase_id     uuid REFERENCES purchases (id),
    updated_at      timestamptz NOT NULL
);
CREATE INDEX training_needs_by_purchase ON training_needs (purchase_id);
CREATE INDEX training_needs_by_library ON training_needs (library, qualification);

-- Purchases this service drafted from training needs (their needs: training_needs.purchase_id).
CREATE TABLE generated_purchases (
    purchase_id  uuid PRIMARY KEY REFERENCES purchases (id),
    library      text NOT NULL,
    generated_at timestamptz NOT NULL
);
CREATE INDEX generated_purchases_by_library ON generated_purchases (library);
