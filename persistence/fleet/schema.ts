/**
 * The fleet authority's schema in PostgreSQL, as versioned migrations applied by
 * `governor fleet init`: the scopes (state and an epoch that only grows), the audit of kills and releases, the
 * hosts (row-level security: a host writes only its own row), the two group roles and their
 * grants, and the operator's kill and release functions (SECURITY DEFINER, the only way to
 * change a scope), which refuse a login role without an operator grant on the scope or a wider
 * one (version 2).
 */

export const FLEET_SCHEMA = 'governor_fleet';
/** The channel a kill or release notifies: a wake-up hint, never the record. */
export const FLEET_CHANNEL = 'governor_fleet';
/** The channel a host notifies when it wrote a confirmation (the kill command listens). */
export const CONFIRM_CHANNEL = 'governor_fleet_confirm';
/** Group roles (NOLOGIN): grant them to the login roles of hosts and operators. */
export const HOST_ROLE = 'governor_fleet_host';
export const OPERATOR_ROLE = 'governor_fleet_operator';

export interface FleetMigration {
  readonly version: number;
  readonly description: string;
  readonly sql: string;
}

const SCOPE_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._:-]*(/[A-Za-z0-9][A-Za-z0-9._:-]*)*$';

export const FLEET_MIGRATIONS: readonly FleetMigration[] = [
  {
    version: 1,
    description: 'scopes, scope actions, hosts, roles, grants, kill and release',
    sql: `
CREATE TABLE ${FLEET_SCHEMA}.scopes (
  scope       text PRIMARY KEY CHECK (scope ~ '${SCOPE_PATTERN}' AND octet_length(scope) <= 200),
  state       text NOT NULL CHECK (state IN ('open', 'killed')),
  epoch       bigint NOT NULL CHECK (epoch >= 1),
  changed_by  text NOT NULL,
  reason      text NOT NULL,
  changed_at  timestamptz NOT NULL DEFAULT now()
);

CREATE FUNCTION ${FLEET_SCHEMA}.epoch_only_grows() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.epoch <= OLD.epoch THEN
    RAISE EXCEPTION 'the epoch of scope % only grows (% -> %)', OLD.scope, OLD.epoch, NEW.epoch;
  END IF;
  IF NEW.scope <> OLD.scope THEN
    RAISE EXCEPTION 'a scope is never renamed';
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER scopes_epoch_only_grows BEFORE UPDATE ON ${FLEET_SCHEMA}.scopes
  FOR EACH ROW EXECUTE FUNCTION ${FLEET_SCHEMA}.epoch_only_grows();
CREATE FUNCTION ${FLEET_SCHEMA}.no_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'rows of %.% are never deleted', TG_TABLE_SCHEMA, TG_TABLE_NAME;
END $$;
CREATE TRIGGER scopes_no_delete BEFORE DELETE ON ${FLEET_SCHEMA}.scopes
  FOR EACH ROW EXECUTE FUNCTION ${FLEET_SCHEMA}.no_delete();

CREATE TABLE ${FLEET_SCHEMA}.scope_actions (
  id         bigserial PRIMARY KEY,
  scope      text NOT NULL,
  action     text NOT NULL CHECK (action IN ('KILL', 'RELEASE')),
  epoch      bigint NOT NULL,
  operator   text NOT NULL,
  reason     text NOT NULL,
  role_name  text NOT NULL DEFAULT session_user,
  at         timestamptz NOT NULL DEFAULT now()
);
CREATE TRIGGER scope_actions_no_delete BEFORE DELETE OR UPDATE ON ${FLEET_SCHEMA}.scope_actions
  FOR EACH ROW EXECUTE FUNCTION ${FLEET_SCHEMA}.no_delete();

CREATE TABLE ${FLEET_SCHEMA}.hosts (
  host              text PRIMARY KEY CHECK (host ~ '^[A-Za-z0-9][A-Za-z0-9._:-]*$' AND octet_length(host) <= 200),
  role_name         text NOT NULL UNIQUE DEFAULT current_user,
  scopes            text[] NOT NULL CHECK (cardinality(scopes) BETWEEN 1 AND 64),
  lease_ms          integer NOT NULL CHECK (lease_ms > 0),
  last_renewal_at   timestamptz,
  lease_expires_at  timestamptz,
  state             text,
  gate_open         boolean NOT NULL DEFAULT false,
  epochs            jsonb NOT NULL DEFAULT '{}',
  confirmations     jsonb NOT NULL DEFAULT '{}',
  restart_check     text,
  registered_at     timestamptz NOT NULL DEFAULT now(),
  updated_at        timestamptz NOT NULL DEFAULT now()
);
ALTER TABLE ${FLEET_SCHEMA}.hosts ENABLE ROW LEVEL SECURITY;
CREATE POLICY hosts_read ON ${FLEET_SCHEMA}.hosts FOR SELECT USING (true);
CREATE POLICY hosts_insert_own ON ${FLEET_SCHEMA}.hosts FOR INSERT
  WITH CHECK (role_name = current_user);
CREATE POLICY hosts_update_own ON ${FLEET_SCHEMA}.hosts FOR UPDATE
  USING (role_name = current_user) WITH CHECK (role_name = current_user);

DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '${HOST_ROLE}') THEN
    CREATE ROLE ${HOST_ROLE} NOLOGIN;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '${OPERATOR_ROLE}') THEN
    CREATE ROLE ${OPERATOR_ROLE} NOLOGIN;
  END IF;
END $$;

CREATE FUNCTION ${FLEET_SCHEMA}.check_action(p_scope text, p_operator text, p_reason text)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  IF p_scope IS NULL OR p_scope !~ '${SCOPE_PATTERN}' THEN
    RAISE EXCEPTION 'invalid scope %', p_scope USING ERRCODE = '22023';
  END IF;
  IF p_operator IS NULL OR p_operator !~ '\\S' OR octet_length(p_operator) > 256 THEN
    RAISE EXCEPTION 'an operator name is required' USING ERRCODE = '22023';
  END IF;
  IF p_reason IS NULL OR p_reason !~ '\\S' OR octet_length(p_reason) > 4096 THEN
    RAISE EXCEPTION 'a reason is required' USING ERRCODE = '22023';
  END IF;
END $$;

-- The kill: one committed transaction that raises the scope's epoch and notifies.
CREATE FUNCTION ${FLEET_SCHEMA}.kill_scope(p_scope text, p_operator text, p_reason text)
RETURNS bigint LANGUAGE plpgsql SECURITY DEFINER SET search_path = ${FLEET_SCHEMA}, pg_temp AS $$
DECLARE
  v_epoch bigint;
BEGIN
  PERFORM check_action(p_scope, p_operator, p_reason);
  INSERT INTO scopes AS s (scope, state, epoch, changed_by, reason)
  VALUES (p_scope, 'killed', 1, p_operator, p_reason)
  ON CONFLICT (scope) DO UPDATE
    SET state = 'killed', epoch = s.epoch + 1, changed_by = EXCLUDED.changed_by,
        reason = EXCLUDED.reason, changed_at = now()
  RETURNING epoch INTO v_epoch;
  INSERT INTO scope_actions (scope, action, epoch, operator, reason)
  VALUES (p_scope, 'KILL', v_epoch, p_operator, p_reason);
  PERFORM pg_notify('${FLEET_CHANNEL}',
    json_build_object('scope', p_scope, 'state', 'killed', 'epoch', v_epoch)::text);
  RETURN v_epoch;
END $$;

-- The release of a scope and of every killed scope under it; each epoch rises again. A wider
-- scope still killed stays killed.
CREATE FUNCTION ${FLEET_SCHEMA}.release_scope(p_scope text, p_operator text, p_reason text)
RETURNS TABLE (scope text, epoch bigint) LANGUAGE plpgsql SECURITY DEFINER
SET search_path = ${FLEET_SCHEMA}, pg_temp AS $$
DECLARE
  v_row record;
BEGIN
  PERFORM check_action(p_scope, p_operator, p_reason);
  FOR v_row IN
    UPDATE scopes AS s
       SET state = 'open', epoch = s.epoch + 1, changed_by = p_operator, reason = p_reason,
           changed_at = now()
     WHERE s.state = 'killed'
       AND (s.scope = p_scope OR left(s.scope, length(p_scope) + 1) = p_scope || '/')
    RETURNING s.scope, s.epoch
  LOOP
    INSERT INTO scope_actions (scope, action, epoch, operator, reason)
    VALUES (v_row.scope, 'RELEASE', v_row.epoch, p_operator, p_reason);
    PERFORM pg_notify('${FLEET_CHANNEL}',
      json_build_object('scope', v_row.scope, 'state', 'open', 'epoch', v_row.epoch)::text);
    scope := v_row.scope;
    epoch := v_row.epoch;
    RETURN NEXT;
  END LOOP;
END $$;

REVOKE ALL ON SCHEMA ${FLEET_SCHEMA} FROM PUBLIC;
REVOKE ALL ON ALL TABLES IN SCHEMA ${FLEET_SCHEMA} FROM PUBLIC;
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA ${FLEET_SCHEMA} FROM PUBLIC;
GRANT USAGE ON SCHEMA ${FLEET_SCHEMA} TO ${HOST_ROLE}, ${OPERATOR_ROLE};
GRANT SELECT ON ${FLEET_SCHEMA}.scopes, ${FLEET_SCHEMA}.hosts, ${FLEET_SCHEMA}.migrations
  TO ${HOST_ROLE}, ${OPERATOR_ROLE};
GRANT SELECT ON ${FLEET_SCHEMA}.scope_actions TO ${OPERATOR_ROLE};
GRANT INSERT (host, role_name, scopes, lease_ms, state, gate_open),
      UPDATE (scopes, lease_ms, last_renewal_at, lease_expires_at, state, gate_open, epochs,
              confirmations, restart_check, updated_at)
  ON ${FLEET_SCHEMA}.hosts TO ${HOST_ROLE};
GRANT EXECUTE ON FUNCTION ${FLEET_SCHEMA}.kill_scope(text, text, text),
                          ${FLEET_SCHEMA}.release_scope(text, text, text)
  TO ${OPERATOR_ROLE};
`,
  },
  {
    version: 2,
    description: 'operator grants per scope, checked by kill and release',
    sql: `
-- Which login role (or group role: its members hold it too) may kill and release which scope;
-- a grant on a scope covers every scope under it. Written only by the schema's owner.
CREATE TABLE ${FLEET_SCHEMA}.operator_scopes (
  role_name   text NOT NULL CHECK (octet_length(role_name) BETWEEN 1 AND 63),
  scope       text NOT NULL CHECK (scope ~ '${SCOPE_PATTERN}' AND octet_length(scope) <= 200),
  granted_by  text NOT NULL DEFAULT session_user,
  granted_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (role_name, scope)
);

-- Every grant and revoke, append-only.
CREATE TABLE ${FLEET_SCHEMA}.operator_scope_changes (
  id         bigserial PRIMARY KEY,
  role_name  text NOT NULL,
  scope      text NOT NULL,
  action     text NOT NULL CHECK (action IN ('GRANT', 'REVOKE')),
  changed_by text NOT NULL DEFAULT session_user,
  at         timestamptz NOT NULL DEFAULT now()
);
CREATE TRIGGER operator_scope_changes_no_delete
  BEFORE DELETE OR UPDATE ON ${FLEET_SCHEMA}.operator_scope_changes
  FOR EACH ROW EXECUTE FUNCTION ${FLEET_SCHEMA}.no_delete();

-- True when p_role, or a role it is a member of (directly or through other roles; no superuser
-- shortcut), holds a grant on p_scope or on one of its '/'-separated prefixes.
CREATE FUNCTION ${FLEET_SCHEMA}.holds_scope(p_role text, p_scope text)
RETURNS boolean LANGUAGE sql STABLE SET search_path = ${FLEET_SCHEMA}, pg_catalog, pg_temp AS $$
  WITH RECURSIVE member_of(roleid) AS (
    SELECT oid FROM pg_roles WHERE rolname = p_role
    UNION
    SELECT m.roleid FROM pg_auth_members m JOIN member_of ON m.member = member_of.roleid
  )
  SELECT EXISTS (
    SELECT 1 FROM operator_scopes g JOIN pg_roles r ON r.rolname = g.role_name
     WHERE r.oid IN (SELECT roleid FROM member_of)
       AND (g.scope = p_scope OR left(p_scope, length(g.scope) + 1) = g.scope || '/'))
$$;

-- Refuses (insufficient_privilege, nothing written) a login role without a grant on the scope.
CREATE FUNCTION ${FLEET_SCHEMA}.require_operator_scope(p_scope text, p_action text)
RETURNS void LANGUAGE plpgsql SET search_path = ${FLEET_SCHEMA}, pg_catalog, pg_temp AS $$
BEGIN
  IF NOT holds_scope(session_user::text, p_scope) THEN
    RAISE EXCEPTION 'role % holds no operator grant on scope % or a wider one: the % was refused, nothing changed',
      session_user, p_scope, p_action
      USING ERRCODE = '42501',
            HINT = format('the schema owner grants it: governor fleet grant --authority URL --operator-role %s --scope %s',
                          session_user, p_scope);
  END IF;
END $$;

CREATE OR REPLACE FUNCTION ${FLEET_SCHEMA}.kill_scope(p_scope text, p_operator text, p_reason text)
RETURNS bigint LANGUAGE plpgsql SECURITY DEFINER SET search_path = ${FLEET_SCHEMA}, pg_temp AS $$
DECLARE
  v_epoch bigint;
BEGIN
  PERFORM check_action(p_scope, p_operator, p_reason);
  PERFORM require_operator_scope(p_scope, 'kill');
  INSERT INTO scopes AS s (scope, state, epoch, changed_by, reason)
  VALUES (p_scope, 'killed', 1, p_operator, p_reason)
  ON CONFLICT (scope) DO UPDATE
    SET state = 'killed', epoch = s.epoch + 1, changed_by = EXCLUDED.changed_by,
        reason = EXCLUDED.reason, changed_at = now()
  RETURNING epoch INTO v_epoch;
  INSERT INTO scope_actions (scope, action, epoch, operator, reason)
  VALUES (p_scope, 'KILL', v_epoch, p_operator, p_reason);
  PERFORM pg_notify('${FLEET_CHANNEL}',
    json_build_object('scope', p_scope, 'state', 'killed', 'epoch', v_epoch)::text);
  RETURN v_epoch;
END $$;

CREATE OR REPLACE FUNCTION ${FLEET_SCHEMA}.release_scope(p_scope text, p_operator text, p_reason text)
RETURNS TABLE (scope text, epoch bigint) LANGUAGE plpgsql SECURITY DEFINER
SET search_path = ${FLEET_SCHEMA}, pg_temp AS $$
DECLARE
  v_row record;
BEGIN
  PERFORM check_action(p_scope, p_operator, p_reason);
  PERFORM require_operator_scope(p_scope, 'release');
  FOR v_row IN
    UPDATE scopes AS s
       SET state = 'open', epoch = s.epoch + 1, changed_by = p_operator, reason = p_reason,
           changed_at = now()
     WHERE s.state = 'killed'
       AND (s.scope = p_scope OR left(s.scope, length(p_scope) + 1) = p_scope || '/')
    RETURNING s.scope, s.epoch
  LOOP
    INSERT INTO scope_actions (scope, action, epoch, operator, reason)
    VALUES (v_row.scope, 'RELEASE', v_row.epoch, p_operator, p_reason);
    PERFORM pg_notify('${FLEET_CHANNEL}',
      json_build_object('scope', v_row.scope, 'state', 'open', 'epoch', v_row.epoch)::text);
    scope := v_row.scope;
    epoch := v_row.epoch;
    RETURN NEXT;
  END LOOP;
END $$;

-- The owner's grant and revoke (run with the caller's rights: only the owner may write the
-- grants). A grant names an existing role; both are idempotent and audited when they change.
CREATE FUNCTION ${FLEET_SCHEMA}.grant_operator_scope(p_role text, p_scope text)
RETURNS boolean LANGUAGE plpgsql SET search_path = ${FLEET_SCHEMA}, pg_catalog, pg_temp AS $$
DECLARE
  v_count integer;
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = p_role) THEN
    RAISE EXCEPTION 'no role % in this database cluster', p_role USING ERRCODE = '22023';
  END IF;
  INSERT INTO operator_scopes (role_name, scope) VALUES (p_role, p_scope)
  ON CONFLICT (role_name, scope) DO NOTHING;
  GET DIAGNOSTICS v_count = ROW_COUNT;
  IF v_count > 0 THEN
    INSERT INTO operator_scope_changes (role_name, scope, action) VALUES (p_role, p_scope, 'GRANT');
  END IF;
  RETURN v_count > 0;
END $$;

CREATE FUNCTION ${FLEET_SCHEMA}.revoke_operator_scope(p_role text, p_scope text)
RETURNS boolean LANGUAGE plpgsql SET search_path = ${FLEET_SCHEMA}, pg_catalog, pg_temp AS $$
DECLARE
  v_count integer;
BEGIN
  DELETE FROM operator_scopes WHERE role_name = p_role AND scope = p_scope;
  GET DIAGNOSTICS v_count = ROW_COUNT;
  IF v_count > 0 THEN
    INSERT INTO operator_scope_changes (role_name, scope, action) VALUES (p_role, p_scope, 'REVOKE');
  END IF;
  RETURN v_count > 0;
END $$;

REVOKE ALL ON ${FLEET_SCHEMA}.operator_scopes, ${FLEET_SCHEMA}.operator_scope_changes FROM PUBLIC;
REVOKE ALL ON FUNCTION ${FLEET_SCHEMA}.holds_scope(text, text),
                       ${FLEET_SCHEMA}.require_operator_scope(text, text),
                       ${FLEET_SCHEMA}.grant_operator_scope(text, text),
                       ${FLEET_SCHEMA}.revoke_operator_scope(text, text) FROM PUBLIC;
GRANT SELECT ON ${FLEET_SCHEMA}.operator_scopes TO ${HOST_ROLE}, ${OPERATOR_ROLE};
GRANT SELECT ON ${FLEET_SCHEMA}.operator_scope_changes TO ${OPERATOR_ROLE};
`,
  },
];

/** The newest schema version this governor knows. */
export const FLEET_SCHEMA_VERSION = FLEET_MIGRATIONS.reduce(
  (max, m) => Math.max(max, m.version),
  0,
);
