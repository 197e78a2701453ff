-- 0006: the stable identifier of an LDAP user's directory entry
-- ("entryUUID:…", "objectGUID:<hex>" or "dn:…"), recorded at every login
-- that asked the directory. A login whose entry has another identifier is
-- another person (see store.Directory.SyncLDAPUser). '' for rows recorded
-- before: the next login records it.
ALTER TABLE ldap_users ADD COLUMN entry_id TEXT NOT NULL DEFAULT '';
