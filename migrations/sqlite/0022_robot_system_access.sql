-- 0022: a system robot's access entries of Harbor's kind "system"
-- (namespace "/": audit logs, users, registries, ... of Harbor itself),
-- kept as given so they read back (robot_permissions.extra's form); they
-- grant nothing at the token endpoint.
ALTER TABLE robots ADD COLUMN system_access TEXT NOT NULL DEFAULT '';
