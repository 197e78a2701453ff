-- 0010: a robot's actions per project (Harbor v2 robots: a system robot may
-- name several projects, each with its own actions). One row per project a
-- robot acts on; project_id NULL is every project (system robots only).
-- Deleting a project deletes the rows naming it: a system robot left with
-- none holds nothing and is refused; it never falls back to every project.
CREATE TABLE robot_permissions (
    robot_id   INTEGER NOT NULL REFERENCES robots (id) ON DELETE CASCADE,
    project_id INTEGER REFERENCES projects (id) ON DELETE CASCADE,
    actions    TEXT    NOT NULL
) STRICT;

CREATE UNIQUE INDEX robot_permissions_key ON robot_permissions (robot_id, COALESCE(project_id, 0));
CREATE INDEX robot_permissions_project_idx ON robot_permissions (project_id);

-- Every robot so far held its actions on its project, or on every project
-- for a system robot; a robot whose project is gone (system = 0, no
-- project) held nothing and still does.
INSERT INTO robot_permissions (robot_id, project_id, actions)
    SELECT id, project_id, actions FROM robots WHERE system = 1 OR project_id IS NOT NULL;

ALTER TABLE robots DROP COLUMN actions;
