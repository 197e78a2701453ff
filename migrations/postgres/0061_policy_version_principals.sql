-- 0061: the policy version (0060) also counts every change to what an
-- authenticated request reads: a user's row (its password, disabled, admin,
-- allowed networks, deletion), a membership, a group or its members, a
-- repository rule, a robot or its permissions. The token endpoint keeps
-- these reads in memory (internal/store/readcache) and reads this one row
-- once per request: a change committed before a request is honoured by it,
-- on every replica, as when every read went to the store. A later table
-- whose rows change what Users.GetUser, Robots.GetRobot or
-- Access.ProjectAccess answer must bump it too, with a trigger like these.
--
-- The bump is made once per transaction, when it commits (a deferred
-- constraint trigger; a transaction-local setting remembers that it was
-- made). 0060's trigger bumped at the end of each statement, holding the
-- counter's row lock from there to the commit: a transaction that went on to
-- lock another row (a user, a membership) could then wait for one that held
-- that row and waited for the counter, and PostgreSQL would abort one of
-- them. Bumped last, the counter's lock is taken when the transaction holds
-- every row it will, and its holder waits for nothing but its own commit.
-- Readers are unaffected: the bump and the change become visible together.

CREATE FUNCTION bump_policy_version_once() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('authserver.policy_version_bumped', true) IS DISTINCT FROM 'on' THEN
        UPDATE policy_version SET version = version + 1 WHERE id = 1;
        PERFORM set_config('authserver.policy_version_bumped', 'on', true);
    END IF;
    RETURN NULL;
END
$$;

DROP TRIGGER projects_policy_version ON projects;
CREATE CONSTRAINT TRIGGER projects_policy_version
AFTER INSERT OR UPDATE OF name, public, internal OR DELETE ON projects
DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION bump_policy_version_once();

CREATE CONSTRAINT TRIGGER users_policy_version
AFTER INSERT OR UPDATE OR DELETE ON users
DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION bump_policy_version_once();

CREATE CONSTRAINT TRIGGER members_policy_version
AFTER INSERT OR UPDATE OR DELETE ON members
DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION bump_policy_version_once();

CREATE CONSTRAINT TRIGGER groups_policy_version
AFTER INSERT OR UPDATE OR DELETE ON groups
DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION bump_policy_version_once();

CREATE CONSTRAINT TRIGGER user_groups_policy_version
AFTER INSERT OR UPDATE OR DELETE ON user_groups
DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION bump_policy_version_once();

CREATE CONSTRAINT TRIGGER repository_rules_policy_version
AFTER INSERT OR UPDATE OR DELETE ON repository_rules
DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION bump_policy_version_once();

CREATE CONSTRAINT TRIGGER robots_policy_version
AFTER INSERT OR UPDATE OR DELETE ON robots
DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION bump_policy_version_once();

CREATE CONSTRAINT TRIGGER robot_permissions_policy_version
AFTER INSERT OR UPDATE OR DELETE ON robot_permissions
DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION bump_policy_version_once();
