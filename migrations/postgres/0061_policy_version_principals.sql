-- 0061: the policy version (0060) also counts every change to what an
-- authenticated request reads: a user's row (its password, disabled, admin,
-- allowed networks, deletion), a membership, a group or its members, a
-- repository rule, a robot or its permissions. The token endpoint keeps
-- these reads in memory (internal/store/readcache) and reads this one row
-- once per request: a change committed before a request is honoured by it,
-- on every replica, as when every read went to the store. A later table
-- whose rows change what Users.GetUser, Robots.GetRobot or
-- Access.ProjectAccess answer must bump it too, with a trigger like these. One bump per statement; the
-- bump takes the row's lock until the writer commits, so writes to these
-- tables are serialized (they are administration, not the token path).

CREATE TRIGGER users_policy_version
AFTER INSERT OR UPDATE OR DELETE ON users
FOR EACH STATEMENT EXECUTE FUNCTION bump_policy_version();

CREATE TRIGGER members_policy_version
AFTER INSERT OR UPDATE OR DELETE ON members
FOR EACH STATEMENT EXECUTE FUNCTION bump_policy_version();

CREATE TRIGGER groups_policy_version
AFTER INSERT OR UPDATE OR DELETE ON groups
FOR EACH STATEMENT EXECUTE FUNCTION bump_policy_version();

CREATE TRIGGER user_groups_policy_version
AFTER INSERT OR UPDATE OR DELETE ON user_groups
FOR EACH STATEMENT EXECUTE FUNCTION bump_policy_version();

CREATE TRIGGER repository_rules_policy_version
AFTER INSERT OR UPDATE OR DELETE ON repository_rules
FOR EACH STATEMENT EXECUTE FUNCTION bump_policy_version();

CREATE TRIGGER robots_policy_version
AFTER INSERT OR UPDATE OR DELETE ON robots
FOR EACH STATEMENT EXECUTE FUNCTION bump_policy_version();

CREATE TRIGGER robot_permissions_policy_version
AFTER INSERT OR UPDATE OR DELETE ON robot_permissions
FOR EACH STATEMENT EXECUTE FUNCTION bump_policy_version();
