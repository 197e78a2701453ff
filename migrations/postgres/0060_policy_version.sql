-- 0060: one counter that every change to what an anonymous request may do
-- bumps, whoever writes it (server, CLI, another replica): the token
-- endpoint keeps the projects anonymous requests ask about in memory and
-- reads this row at most every cache.public_projects to learn that they
-- changed (internal/authz PublicCache). Today that is a project created,
-- renamed, deleted or made public, internal or private; a later table whose rows
-- change what store.Access.ProjectAccess answers for the anonymous
-- principal must bump it too, with a trigger like this one. One bump per
-- statement (a bulk load bumps it once).
CREATE TABLE policy_version (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    version BIGINT  NOT NULL
);
INSERT INTO policy_version (id, version) VALUES (1, 0);

CREATE FUNCTION bump_policy_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE policy_version SET version = version + 1 WHERE id = 1;
    RETURN NULL;
END
$$;

CREATE TRIGGER projects_policy_version
AFTER INSERT OR UPDATE OF name, public, internal OR DELETE ON projects
FOR EACH STATEMENT
EXECUTE FUNCTION bump_policy_version();
