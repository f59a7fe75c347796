// A reusable statement is built and compiled once per engine, then run with each call's values: in and out of a
// transaction, with values in any order, and never with a value that was used as more than a value.
import { sql } from "kysely";
import { afterAll, describe, expect, it } from "vitest";
import { reusable } from "../../src/store/reusable.js";
import { postgresMissing } from "../support/postgres.js";
import { type Engine, engines, engineTitle } from "./engines.js";

describe.each(engines("reusable"))("on $name", (engine) => {
  afterAll(engine.cleanup);

  describe.skipIf(engine.missing)(engineTitle(engine), () => {
    it("builds once and runs each call with its own values, in a transaction too", async () => {
      const store = await engine.open(engine.target());
      let builds = 0;
      const insert = reusable((db, v: { action: string; at: string; subject: string | null }) => {
        builds++;
        return db
          .insertInto("audit")
          .values({ action: v.action, at: v.at, actor: "tester", subject: v.subject })
          .returning(["id", "action", "subject"]);
      });
      const first = await insert(store.db, {
        action: "test.one",
        at: "2026-12-02T10:00:00.000Z",
        subject: "a",
      });
      // Keys in another order, and a null: the values go by name, not by position.
      const second = await insert(store.db, {
        subject: null,
        at: "2026-12-02T10:00:01.000Z",
        action: "test.two",
      });
      await store.transaction(async (tx) => {
        await insert(tx.db, { action: "test.three", at: "2026-12-02T10:00:02.000Z", subject: "c" });
      });
      expect(first.rows).toEqual([expect.objectContaining({ action: "test.one", subject: "a" })]);
      expect(second.rows).toEqual([expect.objectContaining({ action: "test.two", subject: null })]);
      expect((await store.audit.list()).map((e) => [e.action, e.subject, e.at])).toEqual([
        ["test.one", "a", "2026-12-02T10:00:00.000Z"],
        ["test.two", null, "2026-12-02T10:00:01.000Z"],
        ["test.three", "c", "2026-12-02T10:00:02.000Z"],
      ]);
      expect(builds).toBe(1);
      await store.close();
    });

    it("keeps the constants written into the statement, beside the values given", async () => {
      const store = await engine.open(engine.target());
      const count = reusable((db, v: { action: string }) =>
        db
          .selectFrom("audit")
          .select((eb) => eb.fn.countAll<number>().as("n"))
          .where("action", "=", v.action)
          .where("actor", "=", "tester"),
      );
      await store.audit.record({ action: "test.kept" });
      await store.audit.record({ action: "test.kept" });
      await store.audit.record({ action: "test.other" });
      expect(Number((await count(store.db, { action: "test.kept" })).rows[0]?.n)).toBe(2);
      expect(Number((await count(store.db, { action: "test.other" })).rows[0]?.n)).toBe(1);
      await store.close();
    });

    it("refuses a value used as more than a value, and a call without one of its values", async () => {
      const store = await engine.open(engine.target());
      const spliced = reusable((db, v: { action: string }) =>
        db.selectFrom("audit").selectAll().where("action", "=", `test.${v.action}`),
      );
      await expect(spliced(store.db, { action: "x" })).rejects.toThrow(
        /value "action" of a reusable statement was used as more than a value/,
      );
      const byAction = reusable((db, v: { action: string }) =>
        db.selectFrom("audit").selectAll().where("action", "=", v.action),
      );
      await byAction(store.db, { action: "test.a" });
      await expect(byAction(store.db, {} as { action: string })).rejects.toThrow(
        /run without its value "action"/,
      );
      // A value the first call left out is still a value, not that call's constant.
      const bySubject = reusable((db, v: { subject?: string }) =>
        db
          .selectFrom("audit")
          .select("action")
          .where("subject", "=", v.subject ?? "none"),
      );
      await store.audit.record({ action: "test.b", subject: "b" });
      await expect(bySubject(store.db, {})).rejects.toThrow(/run without its value "subject"/);
      expect((await bySubject(store.db, { subject: "b" })).rows).toEqual([{ action: "test.b" }]);
      await store.close();
    });
  });
});

describe.skipIf(postgresMissing)(
  `one reusable statement on both engines${postgresMissing ? ` (skipped: ${postgresMissing})` : ""}`,
  () => {
    const [sqlite, postgres] = engines("reusable_both") as [Engine, Engine];
    afterAll(async () => {
      await sqlite.cleanup();
      await postgres.cleanup();
    });

    it("is compiled for each engine it meets", async () => {
      const a = await sqlite.open(sqlite.target());
      const b = await postgres.open(postgres.target());
      const next = reusable((db, v: { x: number }) => db.selectNoFrom(sql<number>`${v.x} + 1`.as("y")));
      expect(Number((await next(a.db, { x: 1 })).rows[0]?.y)).toBe(2);
      expect(Number((await next(b.db, { x: 2 })).rows[0]?.y)).toBe(3);
      expect(Number((await next(a.db, { x: 5 })).rows[0]?.y)).toBe(6);
      await a.close();
      await b.close();
    });
  },
);
