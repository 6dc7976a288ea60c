-- Training needs: a library needs volunteers trained for a qualification, because theirs runs out soon or an
-- assignment was refused for lack of it. One open need per library and qualification; its numbers change as
-- volunteers come and go, and each change is published again with a higher revision.
CREATE TABLE training_needs (
    id              uuid PRIMARY KEY,
    library         text NOT NULL,
    municipality    text NOT NULL,
    qualification   text NOT NULL,
    status          text NOT NULL,        -- open | met
    volunteers      integer NOT NULL,
    expiring        integer NOT NULL,
    refused         integer NOT NULL,
    needed_by       date NOT NULL,
    validity_months integer,
    revision        integer NOT NULL,
    opened_at       timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    met_at          timestamptz
);
CREATE UNIQUE INDEX training_needs_one_open ON training_needs (library, qualification) WHERE status = 'open';
CREATE INDEX training_needs_by_library ON training_needs (library, opened_at, id);

-- An assignment refused for lack of a qualification: the volunteer counts in the need until they hold it.
CREATE TABLE qualification_refusals (
    volunteer_id  uuid NOT NULL REFERENCES volunteers (id),
    qualification text NOT NULL,
    library       text NOT NULL,
    municipality  text NOT NULL,
    refused_at    timestamptz NOT NULL,
    PRIMARY KEY (volunteer_id, qualification)
);
CREATE INDEX qualification_refusals_by_library ON qualification_refusals (library, qualification);
