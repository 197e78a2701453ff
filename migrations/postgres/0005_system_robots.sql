-- 0005: system robots are explicit. Until now a robot with no project was a
-- system robot (access to every project), so a robot that lost its project
-- by any path would have gained every project: fail open. From now on only
-- system = TRUE means "every project"; a robot with system = FALSE and no
-- project is refused. Existing robots without a project were created as
-- system robots (the only way to get project_id NULL), so they keep that role.
ALTER TABLE robots ADD COLUMN system BOOLEAN NOT NULL DEFAULT FALSE;

UPDATE robots SET system = TRUE WHERE project_id IS NULL;

ALTER TABLE robots ADD CONSTRAINT robots_system_has_no_project CHECK (NOT system OR project_id IS NULL);
