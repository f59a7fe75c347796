// A webhook delivery accepted on PostgreSQL in one statement: the delivery recorded, its job queued (or the job
// that already holds the key found, and moved up to the delivery's priority), and idle replicas woken. As a
// transaction it took five round trips (begin, job, delivery, notify, commit), each a wait for a busy server:
// in a burst of pushes they were most of the statements before the first revocation. SQLite, in process, keeps
// the transaction (store/index.ts), whose statements cost microseconds; it cannot write inside WITH anyway.
//
// A delivery seen before (whichever replica saw it) queues nothing: the job is written only when no delivery row
// has the id, and the delivery's insert does nothing when another statement wrote it first. When two replicas
// race on one delivery, the second waits on the first's rows and then writes nothing.
import { sql } from "kysely";
import { type Clock, iso } from "./clock.js";
import type { Executor } from "./executor.js";
import { type JobWake, notifyCall, payloadOf } from "./job-events.js";
import { type NewJob, newJobRow } from "./jobs.js";
import { reusable } from "./reusable.js";

export interface Delivery {
  /** GitHub's id for it (X-GitHub-Delivery). */
  id: string;
  event: string;
  /** The repository it is about, if any. */
  repository: string | null;
}

export type DeliveryOutcome = "queued" | "already-queued" | "duplicate-delivery";

type JobRow = ReturnType<typeof newJobRow>;

/** The statement's values: the job's row, the delivery's, and the notification that wakes idle replicas. */
type AcceptValues = JobRow & {
  delivery_id: string;
  delivery_event: string;
  delivery_repository: string | null;
  wake: string;
};

/** The columns of a new job's row (the same for every job): the insert's column list, fixed at build time. */
const JOB_COLUMNS = Object.keys(
  newJobRow({ kind: "", key: "", queue: "", payload: null, maxAttempts: 1 }, ""),
);

// Built once per engine: five CTEs cost the event loop more to build than the round trip takes (reusable.ts).
const accept = reusable((db, v: AcceptValues) =>
  db
    .with("seen", (db) => db.selectFrom("deliveries").select("id").where("id", "=", v.delivery_id))
    .with("queued", (db) =>
      db
        .insertInto("jobs")
        .columns(JOB_COLUMNS as (keyof JobRow)[])
        .expression(
          db
            .selectNoFrom((eb) => JOB_COLUMNS.map((column) => eb.val(v[column as keyof JobRow]).as(column)))
            .where(({ not, exists, selectFrom }) => not(exists(selectFrom("seen").select("id")))),
        )
        .onConflict((oc) => oc.column("key").doNothing())
        .returning("id"),
    )
    // The job that already held the key: waiting, it takes the delivery's priority when that is more urgent.
    .with("raised", (db) =>
      db
        .updateTable("jobs")
        .set({ priority: v.priority })
        .where("key", "=", v.key)
        .where("state", "=", "pending")
        .where("priority", ">", v.priority)
        .where(({ not, exists, selectFrom }) => not(exists(selectFrom("seen").select("id"))))
        .returning("id"),
    )
    .with("held", (db) => db.selectFrom("jobs").select("id").where("key", "=", v.key))
    .with("recorded", (db) =>
      db
        .insertInto("deliveries")
        .values({
          id: v.delivery_id,
          event: v.delivery_event,
          repository: v.delivery_repository,
          received_at: v.created_at,
          // The job queued here, else the one that held the key (unseen if another statement queued it meanwhile).
          job_id: sql<number>`coalesce((SELECT id FROM queued), (SELECT id FROM held))`,
        })
        .onConflict((oc) => oc.column("id").doNothing())
        .returning("id"),
    )
    .with("woken", (db) =>
      db
        .selectFrom((eb) =>
          eb.selectFrom("queued").select("id").unionAll(eb.selectFrom("raised").select("id")).as("w"),
        )
        .select(notifyCall(v.wake).as("sent")),
    )
    .selectNoFrom((eb) =>
      (["recorded", "queued", "woken"] as const).map((rows) =>
        eb.selectFrom(rows).select(eb.fn.countAll().as("n")).as(rows),
      ),
    ),
);

/** The outcome, and the wake to give this process's own stages once it is committed (none: nothing to run). */
export async function acceptInOneStatement<P>(
  db: Executor,
  clock: Clock,
  delivery: Delivery,
  job: NewJob<P>,
): Promise<{ outcome: DeliveryOutcome; wake?: JobWake }> {
  const wake: JobWake = { kind: job.kind, key: job.key };
  const { rows } = await accept(db, {
    ...newJobRow(job, iso(clock())),
    delivery_id: delivery.id,
    delivery_event: delivery.event,
    delivery_repository: delivery.repository,
    wake: payloadOf(wake),
  });
  const result = rows[0];
  if (!result) throw new Error("accepting a delivery returned no row");
  const woken = Number(result.woken) > 0 ? wake : undefined;
  // Queued but not recorded: another replica recorded the same delivery at the same moment, and queued nothing.
  if (Number(result.queued) > 0) return { outcome: "queued", wake: woken };
  return { outcome: Number(result.recorded) > 0 ? "already-queued" : "duplicate-delivery", wake: woken };
}
