-- 0050: policy beyond Harbor (issue 24). Nothing here changes what data
-- without the new features means: every new column defaults to "not used".

-- A project is private, internal (any authenticated user, robots of other
-- projects excluded, may pull) or public. public stays Harbor's flag;
-- internal is set only on a project that is not public.
ALTER TABLE projects ADD COLUMN internal INTEGER NOT NULL DEFAULT 0 CHECK (internal IN (0, 1));

-- Conditions on credentials: the networks (CIDRs, space-separated) a login
-- with the credential may come from; '' is anywhere.
ALTER TABLE users ADD COLUMN allow_from TEXT NOT NULL DEFAULT '';
ALTER TABLE personal_tokens ADD COLUMN allow_from TEXT NOT NULL DEFAULT '';
ALTER TABLE robots ADD COLUMN allow_from TEXT NOT NULL DEFAULT '';
-- A robot's repository patterns inside its project (space-separated globs;
-- '' is every repository) and its own token lifetime in seconds (0: the
-- configured one).
ALTER TABLE robots ADD COLUMN repos TEXT NOT NULL DEFAULT '';
ALTER TABLE robots ADD COLUMN token_lifetime INTEGER NOT NULL DEFAULT 0;

-- Repository rules inside a project: a glob over the repository path in
-- the project, a subject (exactly one of a user, a group, a robot or every
-- authenticated caller), actions, and allow or deny.
CREATE TABLE repository_rules (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id    INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    pattern       TEXT    NOT NULL,
    user_id       INTEGER REFERENCES users (id) ON DELETE CASCADE,
    group_id      INTEGER REFERENCES groups (id) ON DELETE CASCADE,
    robot_id      INTEGER REFERENCES robots (id) ON DELETE CASCADE,
    authenticated INTEGER NOT NULL DEFAULT 0 CHECK (authenticated IN (0, 1)),
    actions       TEXT    NOT NULL,
    deny          INTEGER NOT NULL DEFAULT 0 CHECK (deny IN (0, 1)),
    created_at    TEXT    NOT NULL,
    CHECK ((user_id IS NOT NULL) + (group_id IS NOT NULL) + (robot_id IS NOT NULL) + authenticated = 1)
) STRICT;

-- The permission query finds the rules about a principal by subject and
-- project: an index lookup each, whatever the number of rules about others.
CREATE INDEX repository_rules_project_idx ON repository_rules (project_id);
CREATE INDEX repository_rules_user_idx ON repository_rules (user_id, project_id);
CREATE INDEX repository_rules_group_idx ON repository_rules (group_id, project_id);
CREATE INDEX repository_rules_robot_idx ON repository_rules (robot_id, project_id);
CREATE INDEX repository_rules_authenticated_idx ON repository_rules (project_id) WHERE authenticated = 1;
-- The same rule twice is refused (store.ErrAlreadyExists).
CREATE UNIQUE INDEX repository_rules_key ON repository_rules (project_id, pattern, COALESCE(user_id, 0),
    COALESCE(group_id, 0), COALESCE(robot_id, 0), authenticated, actions, deny);
