-- 0021: lists as Harbor's (issue 20): a user's comment (Harbor's user
-- comment, free text read back), and indexes for the pages the admin API
-- reads in the database, sorted by creation time (users, projects, robots).
ALTER TABLE users ADD COLUMN comment TEXT NOT NULL DEFAULT '';
CREATE INDEX users_created_idx ON users (created_at, id);
CREATE INDEX projects_created_idx ON projects (created_at, id);
CREATE INDEX robots_created_idx ON robots (created_at, id);
