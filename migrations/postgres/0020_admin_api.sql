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
