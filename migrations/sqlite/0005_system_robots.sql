-- 0005: system robots are explicit. Until now a robot with no project was a
-- system robot (access to every project), so a robot that lost its project
-- by any path would have gained every project: fail open. From now on only
-- system = 1 means "every project"; a robot with system = 0 and no project
-- is refused. Existing robots without a project were created as system
-- robots (the only way to get project_id NULL), so they keep that role.
ALTER TABLE robots ADD COLUMN system INTEGER NOT NULL DEFAULT 0
    CHECK (system IN (0, 1) AND (system = 0 OR project_id IS NULL));

UPDATE robots SET system = 1 WHERE project_id IS NULL;
