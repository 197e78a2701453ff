-- 0020: what the Harbor-compatible admin API keeps (issue 20).
-- A project's owner is the user who created it (Harbor's owner_id; NULL for
-- one the CLI or an import made, or whose creator is gone); source is
-- "harbor" for a project an import created, else "local".
ALTER TABLE projects ADD COLUMN owner_id BIGINT REFERENCES users (id) ON DELETE SET NULL;
ALTER TABLE projects ADD COLUMN source TEXT NOT NULL DEFAULT 'local';
CREATE INDEX projects_owner_idx ON projects (owner_id);

-- Projects made before owners were kept: their first user projectAdmin.
UPDATE projects SET owner_id = (SELECT m.user_id FROM members m
    WHERE m.project_id = projects.id AND m.user_id IS NOT NULL AND m.role = 'projectAdmin' ORDER BY m.id LIMIT 1);

-- A project's metadata as Harbor's API takes it: string values by key
-- (auto_scan, severity, ...). Only "public" means anything to authserver,
-- and it lives in projects.public, never here.
CREATE TABLE project_metadata (
    project_id BIGINT  NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    name       TEXT    NOT NULL,
    value      TEXT    NOT NULL,
    PRIMARY KEY (project_id, name)
);

-- A robot's access entries other than pull, push and delete on
-- repositories (Harbor's artifact, tag, scan, ...), kept as given so they
-- read back; they grant nothing at the token endpoint.
ALTER TABLE robot_permissions ADD COLUMN extra TEXT NOT NULL DEFAULT '';

-- Names of deleted projects: without a registry to ask, authserver cannot
-- know whether their images are gone, so only a sysadmin may create a
-- project of that name again (its images would be the new project's).
CREATE TABLE reserved_project_names (
    name       TEXT NOT NULL PRIMARY KEY,
    deleted_at TEXT NOT NULL
);
