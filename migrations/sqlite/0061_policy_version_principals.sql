-- 0061: the policy version (0060) also counts every change to what an
-- authenticated request reads: a user's row (its password, disabled, admin,
-- allowed networks, deletion), a membership, a group or its members, a
-- repository rule, a robot or its permissions. The token endpoint keeps
-- these reads in memory (internal/store/readcache) and reads this one row
-- once per request: a change committed before a request is honoured by it,
-- on every replica, as when every read went to the store. A later table
-- whose rows change what Users.GetUser, Robots.GetRobot or
-- Access.ProjectAccess answer must bump it too, with a trigger like these.

CREATE TRIGGER users_policy_insert AFTER INSERT ON users
BEGIN
    UPDATE policy_version SET version = version + 1 WHERE id = 1;
END;
CREATE TRIGGER users_policy_update AFTER UPDATE ON users
BEGIN
    UPDATE policy_version SET version = version + 1 WHERE id = 1;
END;
CREATE TRIGGER users_policy_delete AFTER DELETE ON users
BEGIN
    UPDATE policy_version SET version = version + 1 WHERE id = 1;
END;

CREATE TRIGGER members_policy_insert AFTER INSERT ON members
BEGIN
    UPDATE policy_version SET version = version + 1 WHERE id = 1;
END;
CREATE TRIGGER members_policy_update AFTER UPDATE ON members
BEGIN
    UPDATE policy_version SET version = version + 1 WHERE id = 1;
END;
CREATE TRIGGER members_policy_delete AFTER DELETE ON members
BEGIN
    UPDATE policy_version SET version = version + 1 WHERE id = 1;
END;

CREATE TRIGGER groups_policy_insert AFTER INSERT ON groups
BEGIN
    UPDATE policy_version SET version = version + 1 WHERE id = 1;
END;
CREATE TRIGGER groups_policy_update AFTER UPDATE ON groups
BEGIN
    UPDATE policy_version SET version = version + 1 WHERE id = 1;
END;
CREATE TRIGGER groups_policy_delete AFTER DELETE ON groups
BEGIN
    UPDATE policy_version SET version = version + 1 WHERE id = 1;
END;

CREATE TRIGGER user_groups_policy_insert AFTER INSERT ON user_groups
BEGIN
    UPDATE policy_version SET version = version + 1 WHERE id = 1;
END;
CREATE TRIGGER user_groups_policy_update AFTER UPDATE ON user_groups
BEGIN
    UPDATE policy_version SET version = version + 1 WHERE id = 1;
END;
CREATE TRIGGER user_groups_policy_delete AFTER DELETE ON user_groups
BEGIN
    UPDATE policy_version SET version = version + 1 WHERE id = 1;
END;

CREATE TRIGGER repository_rules_policy_insert AFTER INSERT ON repository_rules
BEGIN
    UPDATE policy_version SET version = version + 1 WHERE id = 1;
END;
CREATE TRIGGER repository_rules_policy_update AFTER UPDATE ON repository_rules
BEGIN
    UPDATE policy_version SET version = version + 1 WHERE id = 1;
END;
CREATE TRIGGER repository_rules_policy_delete AFTER DELETE ON repository_rules
BEGIN
    UPDATE policy_version SET version = version + 1 WHERE id = 1;
END;

CREATE TRIGGER robots_policy_insert AFTER INSERT ON robots
BEGIN
    UPDATE policy_version SET version = version + 1 WHERE id = 1;
END;
CREATE TRIGGER robots_policy_update AFTER UPDATE ON robots
BEGIN
    UPDATE policy_version SET version = version + 1 WHERE id = 1;
END;
CREATE TRIGGER robots_policy_delete AFTER DELETE ON robots
BEGIN
    UPDATE policy_version SET version = version + 1 WHERE id = 1;
END;

CREATE TRIGGER robot_permissions_policy_insert AFTER INSERT ON robot_permissions
BEGIN
    UPDATE policy_version SET version = version + 1 WHERE id = 1;
END;
CREATE TRIGGER robot_permissions_policy_update AFTER UPDATE ON robot_permissions
BEGIN
    UPDATE policy_version SET version = version + 1 WHERE id = 1;
END;
CREATE TRIGGER robot_permissions_policy_delete AFTER DELETE ON robot_permissions
BEGIN
    UPDATE policy_version SET version = version + 1 WHERE id = 1;
END;
