//! The firing side of the store: taking due schedules as firings (in the
//! transaction that advances or deletes them), resuming after a restart,
//! and the firings not yet delivered.

use rusqlite::{Transaction, params};

use super::{Firing, ScheduleStore, decode, encode, read, schedule_arn, write};
use crate::SchedulerError;
use crate::model::Target;
use crate::plan;

impl ScheduleStore {
    /// The earliest time a schedule fires, if any does.
    pub fn earliest_fire(&self) -> Result<Option<i64>, SchedulerError> {
        self.lock().query_row("SELECT min(fire_ms) FROM schedules", [], |r| r.get(0)).map_err(read)
    }

    /// Takes every schedule due at `now_ms`: in one transaction, records a
    /// firing for each and moves it to its next firing, or, when none is
    /// left, keeps it without one (`ActionAfterCompletion` NONE) or deletes
    /// it (DELETE).
    pub fn take_due(&self, now_ms: i64) -> Result<Vec<Firing>, SchedulerError> {
        let mut conn = self.lock();
        let tx = conn.transaction().map_err(write)?;
        let due = {
            let mut stmt = tx
                .prepare(
                    "SELECT region, group_name, name, body, scheduled_ms FROM schedules \
                     WHERE fire_ms IS NOT NULL AND fire_ms <= ?1 ORDER BY fire_ms",
                )
                .map_err(read)?;
            stmt.query_map(params![now_ms], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, i64>(4)?,
                ))
            })
            .map_err(read)?
            .collect::<Result<Vec<_>, _>>()
            .map_err(read)?
        };
        let mut firings = Vec::with_capacity(due.len());
        for (region, group, name, body, scheduled_ms) in due {
            let arn = schedule_arn(&region, &self.account, &group, &name);
            let schedule = match decode(&arn, &body) {
                Ok(schedule) => schedule,
                Err(error) => {
                    // Never fired again rather than failing every other schedule.
                    tracing::error!(%error, "an unreadable schedule is left without firings");
                    tx.execute(
                        "UPDATE schedules SET scheduled_ms = NULL, fire_ms = NULL \
                         WHERE region = ?1 AND group_name = ?2 AND name = ?3",
                        params![region, group, name],
                    )
                    .map_err(write)?;
                    continue;
                }
            };
            firings.push(insert_firing(&tx, &arn, &region, &schedule.target, scheduled_ms)?);
            let next = plan::following(&schedule, scheduled_ms).map(|t| plan::fire_time(&schedule, t));
            if next.is_none() && schedule.action_after_completion == "DELETE" {
                tx.execute(
                    "DELETE FROM schedules WHERE region = ?1 AND group_name = ?2 AND name = ?3",
                    params![region, group, name],
                )
                .map_err(write)?;
                tracing::info!(schedule = arn, "schedule completed and deleted (ActionAfterCompletion DELETE)");
            } else {
                tx.execute(
                    "UPDATE schedules SET scheduled_ms = ?4, fire_ms = ?5 \
                     WHERE region = ?1 AND group_name = ?2 AND name = ?3",
                    params![region, group, name, next.map(|f| f.scheduled_ms), next.map(|f| f.fire_ms)],
                )
                .map_err(write)?;
            }
        }
        tx.commit().map_err(write)?;
        Ok(firings)
    }

    /// At start-up: recurring schedules whose firings passed while the
    /// server was down resume at their next firing from `now_ms` (missed
    /// firings are not replayed); one-time schedules keep their time, so the
    /// loop takes them at once. Returns how many recurring schedules skipped.
    pub fn resume(&self, now_ms: i64) -> Result<usize, SchedulerError> {
        let mut conn = self.lock();
        let tx = conn.transaction().map_err(write)?;
        let missed = {
            let mut stmt = tx
                .prepare(
                    "SELECT region, group_name, name, body FROM schedules WHERE fire_ms IS NOT NULL AND fire_ms < ?1",
                )
                .map_err(read)?;
            stmt.query_map(params![now_ms], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?, r.get::<_, String>(3)?))
            })
            .map_err(read)?
            .collect::<Result<Vec<_>, _>>()
            .map_err(read)?
        };
        let mut skipped = 0;
        for (region, group, name, body) in missed {
            let arn = schedule_arn(&region, &self.account, &group, &name);
            let Ok(schedule) = decode(&arn, &body) else { continue };
            if schedule.expression().is_none_or(|e| e.is_one_time()) {
                continue;
            }
            let next = plan::first(&schedule, now_ms).map(|t| plan::fire_time(&schedule, t));
            tracing::info!(schedule = arn, next = ?next.map(|f| f.scheduled_ms), "firings missed while the server was down are not replayed");
            tx.execute(
                "UPDATE schedules SET scheduled_ms = ?4, fire_ms = ?5 WHERE region = ?1 AND group_name = ?2 AND name = ?3",
                params![region, group, name, next.map(|f| f.scheduled_ms), next.map(|f| f.fire_ms)],
            )
            .map_err(write)?;
            skipped += 1;
        }
        tx.commit().map_err(write)?;
        Ok(skipped)
    }

    /// The firings not yet delivered (after a restart).
    pub fn pending(&self) -> Result<Vec<Firing>, SchedulerError> {
        let conn = self.lock();
        let mut stmt = conn
            .prepare("SELECT id, schedule_arn, region, target, scheduled_ms FROM firings ORDER BY id")
            .map_err(read)?;
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, i64>(4)?,
                ))
            })
            .map_err(read)?
            .collect::<Result<Vec<_>, _>>()
            .map_err(read)?;
        rows.into_iter()
            .map(|(id, schedule_arn, region, target, scheduled_ms)| {
                let target = serde_json::from_str(&target)
                    .map_err(|source| SchedulerError::Decode { arn: schedule_arn.clone(), source })?;
                Ok(Firing { id, schedule_arn, region, target, scheduled_ms })
            })
            .collect()
    }

    /// A firing delivered (or given up on).
    pub fn done(&self, id: i64) -> Result<(), SchedulerError> {
        self.lock().execute("DELETE FROM firings WHERE id = ?1", params![id]).map(|_| ()).map_err(write)
    }
}

fn insert_firing(
    tx: &Transaction<'_>,
    arn: &str,
    region: &str,
    target: &Target,
    scheduled_ms: i64,
) -> Result<Firing, SchedulerError> {
    tx.execute(
        "INSERT INTO firings (schedule_arn, region, target, scheduled_ms) VALUES (?1, ?2, ?3, ?4)",
        params![arn, region, encode(target), scheduled_ms],
    )
    .map_err(write)?;
    Ok(Firing {
        id: tx.last_insert_rowid(),
        schedule_arn: arn.to_owned(),
        region: region.to_owned(),
        target: target.clone(),
        scheduled_ms,
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::tests::{NOW, R, ms, schedule, store};

    #[test]
    fn due_schedules_become_firings_and_move_on() {
        let s = store();
        s.insert(R, &schedule("every5", json!({})), NOW).unwrap();
        s.insert(
            R,
            &schedule(
                "once",
                json!({"ScheduleExpression": "at(2027-01-16T08:00:00)", "ActionAfterCompletion": "DELETE"}),
            ),
            NOW,
        )
        .unwrap();
        s.insert(R, &schedule("off", json!({"State": "DISABLED"})), NOW).unwrap();
        assert_eq!(s.earliest_fire().unwrap(), Some(NOW));
        let taken = s.take_due(NOW).unwrap();
        assert_eq!(taken.len(), 1);
        assert_eq!(taken[0].schedule_arn, "arn:aws:scheduler:us-east-1:000000000000:schedule/default/every5");
        assert_eq!(taken[0].target.input.as_deref(), Some("{\"n\": 1}"));
        assert_eq!(s.next_firing(R, "default", "every5").unwrap().unwrap().scheduled_ms, NOW + 5 * 60_000);
        assert_eq!(s.pending().unwrap().len(), 1);
        s.done(taken[0].id).unwrap();
        assert!(s.pending().unwrap().is_empty());
        // The one-time schedule (2027-01-16) fires once and is deleted.
        let at = ms("2027-01-16T08:00:00Z");
        let taken = s.take_due(at).unwrap();
        let arns: Vec<&str> = taken.iter().map(|f| f.schedule_arn.as_str()).collect();
        assert!(arns.iter().any(|a| a.ends_with("/once")), "{arns:?}");
        assert!(s.schedule(R, "default", "once").unwrap().is_none());
        assert!(s.next_firing(R, "default", "off").unwrap().is_none());
    }

    #[test]
    fn a_restart_skips_missed_recurring_firings_but_keeps_one_time_ones() {
        let s = store();
        s.insert(R, &schedule("every5", json!({})), NOW).unwrap();
        s.insert(R, &schedule("once", json!({"ScheduleExpression": "at(2027-01-15T08:00:00)"})), NOW).unwrap();
        let later = ms("2027-01-15T09:02:00Z");
        assert_eq!(s.resume(later).unwrap(), 1);
        let next = s.next_firing(R, "default", "every5").unwrap().unwrap();
        assert!(next.scheduled_ms >= later && next.scheduled_ms < later + 5 * 60_000, "{next:?}");
        assert_eq!(s.next_firing(R, "default", "once").unwrap().unwrap().scheduled_ms, ms("2027-01-15T08:00:00Z"));
    }
}
