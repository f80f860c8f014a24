//! `scheduler/schedules.db` (opened with `lambdabox_store::open_migrated`:
//! WAL, synchronous=FULL): schedule groups, their tags, schedules with the
//! time each fires next, and the *firings*: a firing is committed in the
//! same transaction that advances (or deletes) its schedule, and removed
//! once its target accepted it or its retry policy gave up, so a firing
//! taken before a crash is delivered after the restart (at least once, as
//! EventBridge Scheduler promises).
//!
//! Every region has its own schedules and groups; the `default` group of
//! each exists without a row.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Mutex, MutexGuard};

use rusqlite::{Connection, OptionalExtension, Transaction, params};

use crate::SchedulerError;
use crate::model::{DEFAULT_GROUP, Schedule, Target};
use crate::plan;

mod firings;

const MIGRATIONS: &[&str] = &[r#"
CREATE TABLE schedule_groups (
    region      TEXT NOT NULL,
    name        TEXT NOT NULL,
    created_ms  INTEGER NOT NULL,
    modified_ms INTEGER NOT NULL,
    PRIMARY KEY (region, name)
);
CREATE TABLE group_tags (
    region TEXT NOT NULL,
    name   TEXT NOT NULL,
    key    TEXT NOT NULL,
    value  TEXT NOT NULL,
    PRIMARY KEY (region, name, key)
);
CREATE TABLE schedules (
    region       TEXT NOT NULL,
    group_name   TEXT NOT NULL,
    name         TEXT NOT NULL,
    state        TEXT NOT NULL,
    body         TEXT NOT NULL,
    -- The next firing: what the expression names, and when it goes off
    -- (later within a flexible time window); NULL when none is left.
    scheduled_ms INTEGER,
    fire_ms      INTEGER,
    PRIMARY KEY (region, group_name, name)
);
CREATE INDEX schedules_by_fire_time ON schedules (fire_ms) WHERE fire_ms IS NOT NULL;
CREATE TABLE firings (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    schedule_arn TEXT NOT NULL,
    region       TEXT NOT NULL,
    target       TEXT NOT NULL,
    scheduled_ms INTEGER NOT NULL
);
"#];

/// A schedule group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    pub name: String,
    /// `None` for the implicit `default` group.
    pub created_ms: Option<i64>,
    pub modified_ms: Option<i64>,
}

impl Group {
    fn default_group() -> Self {
        Self { name: DEFAULT_GROUP.to_owned(), created_ms: None, modified_ms: None }
    }
}

/// A firing taken from its schedule, to be delivered to its target.
#[derive(Debug, Clone, PartialEq)]
pub struct Firing {
    pub id: i64,
    pub schedule_arn: String,
    pub region: String,
    pub target: Target,
    pub scheduled_ms: i64,
}

/// What ListSchedules filters on.
#[derive(Debug, Default, Clone)]
pub struct ScheduleFilter {
    pub group: Option<String>,
    pub name_prefix: Option<String>,
    pub state: Option<String>,
    /// List after this `(group, name)`.
    pub after: Option<(String, String)>,
    pub limit: usize,
}

pub struct ScheduleStore {
    conn: Mutex<Connection>,
    account: String,
}

fn read(source: rusqlite::Error) -> SchedulerError {
    SchedulerError::Read { source }
}

fn write(source: rusqlite::Error) -> SchedulerError {
    SchedulerError::Write { source }
}

/// The schedule's ARN.
pub fn schedule_arn(region: &str, account: &str, group: &str, name: &str) -> String {
    format!("arn:aws:scheduler:{region}:{account}:schedule/{group}/{name}")
}

/// The schedule group's ARN.
pub fn group_arn(region: &str, account: &str, group: &str) -> String {
    format!("arn:aws:scheduler:{region}:{account}:schedule-group/{group}")
}

pub fn group_not_found(name: &str) -> SchedulerError {
    SchedulerError::not_found(format!("Schedule group {name} does not exist."))
}

pub fn schedule_not_found(name: &str) -> SchedulerError {
    SchedulerError::not_found(format!("Schedule {name} does not exist."))
}

fn decode(arn: &str, body: &str) -> Result<Schedule, SchedulerError> {
    serde_json::from_str(body).map_err(|source| SchedulerError::Decode { arn: arn.to_owned(), source })
}

fn encode<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).expect("schedules always serialise")
}

impl ScheduleStore {
    /// Opens (creating and migrating) the database at `path`.
    pub fn open(path: &Path, account: &str) -> Result<Self, SchedulerError> {
        let conn = lambdabox_store::open_migrated(path, MIGRATIONS)
            .map_err(|source| SchedulerError::Open { path: path.to_owned(), source })?;
        Ok(Self { conn: Mutex::new(conn), account: account.to_owned() })
    }

    /// An in-memory database (tests).
    pub fn open_in_memory(account: &str) -> Result<Self, SchedulerError> {
        let conn = lambdabox_store::open_migrated_in_memory(MIGRATIONS)
            .map_err(|source| SchedulerError::Open { path: ":memory:".into(), source })?;
        Ok(Self { conn: Mutex::new(conn), account: account.to_owned() })
    }

    pub fn account(&self) -> &str {
        &self.account
    }

    fn lock(&self) -> MutexGuard<'_, Connection> {
        // A panic holding the lock rolls its transaction back: still usable.
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    // -- groups -----------------------------------------------------------

    pub fn create_group(
        &self,
        region: &str,
        name: &str,
        tags: &[(String, String)],
        now_ms: i64,
    ) -> Result<(), SchedulerError> {
        let mut conn = self.lock();
        let tx = conn.transaction().map_err(write)?;
        if name == DEFAULT_GROUP || group_row_exists(&tx, region, name)? {
            return Err(SchedulerError::conflict(format!("Schedule group {name} already exists.")));
        }
        tx.execute(
            "INSERT INTO schedule_groups (region, name, created_ms, modified_ms) VALUES (?1, ?2, ?3, ?3)",
            params![region, name, now_ms],
        )
        .map_err(write)?;
        put_tags(&tx, region, name, tags)?;
        tx.commit().map_err(write)
    }

    pub fn group(&self, region: &str, name: &str) -> Result<Option<Group>, SchedulerError> {
        if name == DEFAULT_GROUP {
            return Ok(Some(Group::default_group()));
        }
        self.lock()
            .query_row(
                "SELECT created_ms, modified_ms FROM schedule_groups WHERE region = ?1 AND name = ?2",
                params![region, name],
                |r| Ok(Group { name: name.to_owned(), created_ms: Some(r.get(0)?), modified_ms: Some(r.get(1)?) }),
            )
            .optional()
            .map_err(read)
    }

    /// Every group of the region (the default one too), by name.
    pub fn groups(&self, region: &str) -> Result<Vec<Group>, SchedulerError> {
        let conn = self.lock();
        let mut stmt = conn
            .prepare("SELECT name, created_ms, modified_ms FROM schedule_groups WHERE region = ?1")
            .map_err(read)?;
        let mut groups = stmt
            .query_map(params![region], |r| {
                Ok(Group { name: r.get(0)?, created_ms: Some(r.get(1)?), modified_ms: Some(r.get(2)?) })
            })
            .map_err(read)?
            .collect::<Result<Vec<_>, _>>()
            .map_err(read)?;
        groups.push(Group::default_group());
        groups.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(groups)
    }

    /// Deletes a group with its schedules and tags.
    pub fn delete_group(&self, region: &str, name: &str) -> Result<(), SchedulerError> {
        if name == DEFAULT_GROUP {
            return Err(SchedulerError::validation("The default schedule group cannot be deleted."));
        }
        let mut conn = self.lock();
        let tx = conn.transaction().map_err(write)?;
        let deleted = tx
            .execute("DELETE FROM schedule_groups WHERE region = ?1 AND name = ?2", params![region, name])
            .map_err(write)?;
        if deleted == 0 {
            return Err(group_not_found(name));
        }
        tx.execute("DELETE FROM schedules WHERE region = ?1 AND group_name = ?2", params![region, name])
            .map_err(write)?;
        tx.execute("DELETE FROM group_tags WHERE region = ?1 AND name = ?2", params![region, name]).map_err(write)?;
        tx.commit().map_err(write)
    }

    /// A group's tags, by key; `None` when the group does not exist.
    pub fn tags(&self, region: &str, name: &str) -> Result<Option<BTreeMap<String, String>>, SchedulerError> {
        if self.group(region, name)?.is_none() {
            return Ok(None);
        }
        let conn = self.lock();
        let mut stmt = conn
            .prepare("SELECT key, value FROM group_tags WHERE region = ?1 AND name = ?2 ORDER BY key")
            .map_err(read)?;
        let tags = stmt
            .query_map(params![region, name], |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(read)?
            .collect::<Result<BTreeMap<_, _>, _>>()
            .map_err(read)?;
        Ok(Some(tags))
    }

    pub fn tag(&self, region: &str, name: &str, tags: &[(String, String)]) -> Result<(), SchedulerError> {
        let mut conn = self.lock();
        let tx = conn.transaction().map_err(write)?;
        if name != DEFAULT_GROUP && !group_row_exists(&tx, region, name)? {
            return Err(group_not_found(name));
        }
        put_tags(&tx, region, name, tags)?;
        tx.commit().map_err(write)
    }

    pub fn untag(&self, region: &str, name: &str, keys: &[String]) -> Result<(), SchedulerError> {
        let mut conn = self.lock();
        let tx = conn.transaction().map_err(write)?;
        if name != DEFAULT_GROUP && !group_row_exists(&tx, region, name)? {
            return Err(group_not_found(name));
        }
        for key in keys {
            tx.execute(
                "DELETE FROM group_tags WHERE region = ?1 AND name = ?2 AND key = ?3",
                params![region, name, key],
            )
            .map_err(write)?;
        }
        tx.commit().map_err(write)
    }

    // -- schedules --------------------------------------------------------

    /// Adds a schedule (CreateSchedule) with its first firing.
    pub fn insert(&self, region: &str, schedule: &Schedule, now_ms: i64) -> Result<(), SchedulerError> {
        let mut conn = self.lock();
        let tx = conn.transaction().map_err(write)?;
        let group = &schedule.group_name;
        if group != DEFAULT_GROUP && !group_row_exists(&tx, region, group)? {
            return Err(group_not_found(group));
        }
        if schedule_row(&tx, region, group, &schedule.name)?.is_some() {
            return Err(SchedulerError::conflict(format!("Schedule {} already exists.", schedule.name)));
        }
        let next = plan::first(schedule, now_ms).map(|t| plan::fire_time(schedule, t));
        tx.execute(
            "INSERT INTO schedules (region, group_name, name, state, body, scheduled_ms, fire_ms) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                region,
                group,
                schedule.name,
                schedule.state,
                encode(schedule),
                next.map(|f| f.scheduled_ms),
                next.map(|f| f.fire_ms)
            ],
        )
        .map_err(write)?;
        tx.commit().map_err(write)
    }

    /// Replaces a schedule's definition (UpdateSchedule), keeping its
    /// creation date, and plans its firings anew; returns the new definition.
    pub fn replace(
        &self,
        region: &str,
        define: impl FnOnce(i64) -> Result<Schedule, SchedulerError>,
        group: &str,
        name: &str,
        now_ms: i64,
    ) -> Result<Schedule, SchedulerError> {
        let mut conn = self.lock();
        let tx = conn.transaction().map_err(write)?;
        if group != DEFAULT_GROUP && !group_row_exists(&tx, region, group)? {
            return Err(group_not_found(group));
        }
        let Some(old) = schedule_row(&tx, region, group, name)? else { return Err(schedule_not_found(name)) };
        let old = decode(&schedule_arn(region, &self.account, group, name), &old)?;
        let schedule = define(old.creation_ms)?;
        let next = plan::first(&schedule, now_ms).map(|t| plan::fire_time(&schedule, t));
        tx.execute(
            "UPDATE schedules SET state = ?4, body = ?5, scheduled_ms = ?6, fire_ms = ?7 \
             WHERE region = ?1 AND group_name = ?2 AND name = ?3",
            params![
                region,
                group,
                name,
                schedule.state,
                encode(&schedule),
                next.map(|f| f.scheduled_ms),
                next.map(|f| f.fire_ms)
            ],
        )
        .map_err(write)?;
        tx.commit().map_err(write)?;
        Ok(schedule)
    }

    pub fn schedule(&self, region: &str, group: &str, name: &str) -> Result<Option<Schedule>, SchedulerError> {
        let conn = self.lock();
        let tx = conn.unchecked_transaction().map_err(read)?;
        if group != DEFAULT_GROUP && !group_row_exists(&tx, region, group)? {
            return Err(group_not_found(group));
        }
        match schedule_row(&tx, region, group, name)? {
            Some(body) => Ok(Some(decode(&schedule_arn(region, &self.account, group, name), &body)?)),
            None => Ok(None),
        }
    }

    /// When a schedule fires next (scheduled, fire), if it does.
    pub fn next_firing(&self, region: &str, group: &str, name: &str) -> Result<Option<plan::Firing>, SchedulerError> {
        self.lock()
            .query_row(
                "SELECT scheduled_ms, fire_ms FROM schedules WHERE region = ?1 AND group_name = ?2 AND name = ?3 \
                 AND fire_ms IS NOT NULL",
                params![region, group, name],
                |r| Ok(plan::Firing { scheduled_ms: r.get(0)?, fire_ms: r.get(1)? }),
            )
            .optional()
            .map_err(read)
    }

    pub fn delete(&self, region: &str, group: &str, name: &str) -> Result<(), SchedulerError> {
        let mut conn = self.lock();
        let tx = conn.transaction().map_err(write)?;
        if group != DEFAULT_GROUP && !group_row_exists(&tx, region, group)? {
            return Err(group_not_found(group));
        }
        let deleted = tx
            .execute(
                "DELETE FROM schedules WHERE region = ?1 AND group_name = ?2 AND name = ?3",
                params![region, group, name],
            )
            .map_err(write)?;
        if deleted == 0 {
            return Err(schedule_not_found(name));
        }
        tx.commit().map_err(write)
    }

    /// Schedules of a region by (group, name), up to `filter.limit` and one
    /// more (so the caller knows there is a next page).
    pub fn list(&self, region: &str, filter: &ScheduleFilter) -> Result<Vec<Schedule>, SchedulerError> {
        let conn = self.lock();
        if let Some(group) = &filter.group
            && group != DEFAULT_GROUP
            && !group_row_exists(&conn, region, group)?
        {
            return Err(group_not_found(group));
        }
        let (after_group, after_name) = filter.after.clone().unwrap_or_default();
        let mut stmt = conn
            .prepare(
                "SELECT group_name, name, body FROM schedules WHERE region = ?1 \
                 AND (?2 IS NULL OR group_name = ?2) AND (?3 IS NULL OR state = ?3) \
                 AND (?4 IS NULL OR substr(name, 1, length(?4)) = ?4) \
                 AND (group_name, name) > (?5, ?6) \
                 ORDER BY group_name, name LIMIT ?7",
            )
            .map_err(read)?;
        let rows = stmt
            .query_map(
                params![
                    region,
                    filter.group,
                    filter.state,
                    filter.name_prefix,
                    after_group,
                    after_name,
                    filter.limit as i64 + 1
                ],
                |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?)),
            )
            .map_err(read)?
            .collect::<Result<Vec<_>, _>>()
            .map_err(read)?;
        rows.iter().map(|(g, n, body)| decode(&schedule_arn(region, &self.account, g, n), body)).collect()
    }
}

fn group_row_exists(conn: &Connection, region: &str, name: &str) -> Result<bool, SchedulerError> {
    conn.query_row("SELECT 1 FROM schedule_groups WHERE region = ?1 AND name = ?2", params![region, name], |_| Ok(()))
        .optional()
        .map(|r| r.is_some())
        .map_err(read)
}

fn schedule_row(conn: &Connection, region: &str, group: &str, name: &str) -> Result<Option<String>, SchedulerError> {
    conn.query_row(
        "SELECT body FROM schedules WHERE region = ?1 AND group_name = ?2 AND name = ?3",
        params![region, group, name],
        |r| r.get(0),
    )
    .optional()
    .map_err(read)
}

fn put_tags(tx: &Transaction<'_>, region: &str, name: &str, tags: &[(String, String)]) -> Result<(), SchedulerError> {
    for (key, value) in tags {
        tx.execute(
            "INSERT INTO group_tags (region, name, key, value) VALUES (?1, ?2, ?3, ?4) \
             ON CONFLICT (region, name, key) DO UPDATE SET value = excluded.value",
            params![region, name, key, value],
        )
        .map_err(write)?;
    }
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests {
    use serde_json::json;

    use super::*;
    use crate::model::define;

    pub(crate) const NOW: i64 = 1_800_000_000_000;
    pub(crate) const R: &str = "us-east-1";

    pub(crate) fn schedule(name: &str, extra: serde_json::Value) -> Schedule {
        let mut body = json!({
            "ScheduleExpression": "rate(5 minutes)",
            "FlexibleTimeWindow": {"Mode": "OFF"},
            "Target": {"Arn": "arn:aws:lambda:us-east-1:000000000000:function:f", "RoleArn": "arn:aws:iam::000000000000:role/r", "Input": "{\"n\": 1}"},
        });
        for (k, v) in extra.as_object().unwrap() {
            body[k] = v.clone();
        }
        define(name, &body, NOW, None).unwrap()
    }

    pub(crate) fn store() -> ScheduleStore {
        ScheduleStore::open_in_memory("000000000000").unwrap()
    }

    #[test]
    fn schedules_live_in_groups() {
        let s = store();
        s.insert(R, &schedule("a", json!({})), NOW).unwrap();
        let again = s.insert(R, &schedule("a", json!({})), NOW).unwrap_err();
        assert_eq!((again.error_type(), again.message()), ("ConflictException", "Schedule a already exists.".into()));
        let orphan = s.insert(R, &schedule("b", json!({"GroupName": "g"})), NOW).unwrap_err();
        assert_eq!(orphan.message(), "Schedule group g does not exist.");
        s.create_group(R, "g", &[("team".into(), "x".into())], NOW).unwrap();
        s.insert(R, &schedule("b", json!({"GroupName": "g"})), NOW).unwrap();
        assert!(s.create_group(R, "g", &[], NOW).is_err());
        assert!(s.create_group(R, "default", &[], NOW).is_err());
        // Another region has its own.
        assert!(s.schedule("us-west-2", "default", "a").unwrap().is_none());
        assert_eq!(s.schedule(R, "default", "a").unwrap().unwrap().name, "a");
        let names = |f: ScheduleFilter| s.list(R, &f).unwrap().into_iter().map(|x| x.name).collect::<Vec<_>>();
        assert_eq!(names(ScheduleFilter { limit: 10, ..Default::default() }), ["a", "b"]);
        assert_eq!(names(ScheduleFilter { group: Some("g".into()), limit: 10, ..Default::default() }), ["b"]);
        assert_eq!(names(ScheduleFilter { name_prefix: Some("b".into()), limit: 10, ..Default::default() }), ["b"]);
        assert_eq!(
            names(ScheduleFilter { after: Some(("default".into(), "a".into())), limit: 10, ..Default::default() }),
            ["b"]
        );
        assert_eq!(names(ScheduleFilter { state: Some("DISABLED".into()), limit: 10, ..Default::default() }).len(), 0);
        assert_eq!(s.groups(R).unwrap().iter().map(|g| g.name.as_str()).collect::<Vec<_>>(), ["default", "g"]);
        assert_eq!(s.tags(R, "g").unwrap().unwrap()["team"], "x");
        s.delete_group(R, "g").unwrap();
        assert!(s.schedule(R, "g", "b").is_err(), "the group's schedules go with it");
        assert!(s.tags(R, "g").unwrap().is_none());
        assert!(s.delete_group(R, "default").is_err());
        s.delete(R, "default", "a").unwrap();
        assert_eq!(s.delete(R, "default", "a").unwrap_err().message(), "Schedule a does not exist.");
    }

    #[test]
    fn updates_replace_and_keep_the_creation_date() {
        let s = store();
        s.insert(R, &schedule("a", json!({})), NOW).unwrap();
        let updated = s
            .replace(
                R,
                |created| define("a", &json!({"ScheduleExpression": "rate(1 hour)", "State": "DISABLED", "FlexibleTimeWindow": {"Mode": "OFF"}, "Target": {"Arn": "x", "RoleArn": "arn:aws:iam::000000000000:role/r"}}), NOW + 1000, Some(created)),
                "default",
                "a",
                NOW + 1000,
            )
            .unwrap();
        assert_eq!(updated.creation_ms, NOW);
        assert_eq!(updated.schedule_expression, "rate(1 hour)");
        assert!(s.next_firing(R, "default", "a").unwrap().is_none(), "disabled");
        let missing = s.replace(R, |_| unreachable!(), "default", "zzz", NOW).unwrap_err();
        assert_eq!(missing.message(), "Schedule zzz does not exist.");
    }

    #[test]
    fn tags_on_groups() {
        let s = store();
        s.create_group(R, "g", &[], NOW).unwrap();
        s.tag(R, "g", &[("a".into(), "1".into()), ("b".into(), "2".into())]).unwrap();
        s.tag(R, "g", &[("a".into(), "3".into())]).unwrap();
        s.untag(R, "g", &["b".into()]).unwrap();
        assert_eq!(
            s.tags(R, "g").unwrap().unwrap().into_iter().collect::<Vec<_>>(),
            [("a".to_owned(), "3".to_owned())]
        );
        assert!(s.tag(R, "nope", &[]).is_err());
    }

    pub(crate) fn ms(s: &str) -> i64 {
        chrono::DateTime::parse_from_rfc3339(s).unwrap().timestamp_millis()
    }
}
