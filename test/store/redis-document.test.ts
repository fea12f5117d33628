/**
 * The owner document and the pure changes to it (src/store/redis/document.ts, apply.ts),
 * without Redis: every encoding gives the document back, a changeset applies all or nothing
 * and never changes its input, a document of a newer schema is refused, and fields this build
 * does not know survive every change.
 */
import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { createFieldCipher } from "../../src/crypto/field-cipher.js";
import { emptyChangeset, type Owner } from "../../src/domain/model.js";
import { apply, erase, finishEntries, markOnce, updateProfile } from "../../src/store/redis/apply.js";
import {
  assertWritable,
  decodeDoc,
  encodeDoc,
  NewerSchemaError,
  newDoc,
  type OwnerDoc,
  SCHEMA_VERSION,
} from "../../src/store/redis/document.js";
import { ownerFromRow } from "../../src/store/rows.js";
import { ConflictError, DuplicateError } from "../../src/store/store.js";
import { anAttempt, consentPlan, T0 } from "./builders.js";

const cipher = createFieldCipher(randomBytes(32));
const deps = { now: "2026-06-02T00:00:00.000Z", cipher };

function aDoc(): OwnerDoc {
  return newDoc({
    id: "0190a6b4-0000-7000-8000-000000000001",
    telegram_user_id: 42,
    chat_id: 42,
    language: "zh",
    phone_enc: cipher.encrypt("+8613812345678"),
    phone_hash: cipher.hash("+8613812345678", "phone"),
    phone_verified: 1,
    country: "CN",
    timezone: "Asia/Shanghai",
    jurisdiction: "CN",
    name_enc: null,
    vehicle_enc: null,
    sandbox: 0,
    created_at: T0,
    updated_at: T0,
    version: 0,
    renewed_at: null,
    deleted_at: null,
  });
}
const ownerOf = (doc: OwnerDoc): Owner => ownerFromRow(doc.owner, cipher);

/** An owner who agreed: one window (a), opt-outs (b, c), outbox entries for all three. */
function agreed() {
  const doc = aDoc();
  const plan = consentPlan(ownerOf(doc), ["a"], ["b", "c"]);
  return { plan, doc: apply(doc, plan.changeset, deps) };
}

describe("owner document encodings", () => {
  it("gives the document back from JSON, deflated bytes and deflated base64, with its header", () => {
    const { doc } = agreed();
    for (const encoding of ["j", "z1", "b1"] as const) {
      const stored = encodeDoc(doc, encoding);
      expect(String(stored).startsWith(`${SCHEMA_VERSION}:1:${encoding}:`)).toBe(true);
      expect(decodeDoc(stored)).toEqual(doc);
    }
    expect(typeof encodeDoc(doc, "b1")).toBe("string");
    // The dictionary earns its keep: the deflated form is a fraction of the JSON.
    expect((encodeDoc(doc, "z1") as Buffer).length).toBeLessThan(String(encodeDoc(doc, "j")).length / 3);
  });

  it("leaves nulls out and reads them back as null", () => {
    const text = String(encodeDoc(aDoc(), "j"));
    expect(text).not.toContain("null");
    expect(decodeDoc(text)?.owner.renewed_at).toBeNull();
  });

  it("fails loudly on a malformed document", () => {
    expect(() => decodeDoc("1:0:j:{}")).toThrow();
    expect(() => decodeDoc("no header")).toThrow(/header/);
    expect(() => decodeDoc("1:0:q9:{}")).toThrow(/unknown encoding/);
  });
});

describe("apply(doc, changeset)", () => {
  it("adds the changeset's records, bumps the version, and leaves its input as it was", () => {
    const doc = aDoc();
    const before = structuredClone(doc);
    const plan = consentPlan(ownerOf(doc), ["a"], ["b", "c"]);
    const next = apply(doc, plan.changeset, deps);
    expect(doc).toEqual(before);
    expect(next.owner.version).toBe(1);
    expect(next.owner.updated_at).toBe(deps.now);
    expect(next.windows.map((w) => w.id)).toEqual(plan.windows.map((w) => w.id));
    expect(next.optOuts.map((o) => o.id)).toEqual(plan.optOuts.map((o) => o.id));
    expect(next.outbox.map((e) => [e.id, e.state])).toEqual(plan.outbox.map((e) => [e.id, "pending"]));
    expect(next.consents).toHaveLength(1);
    expect(next.receipts).toHaveLength(1);
  });

  it("refuses a plan made from another version", () => {
    const { doc, plan } = agreed();
    expect(() => apply(doc, plan.changeset, deps)).toThrow(ConflictError);
  });

  it("applies all or nothing: a target that is not the owner's changes nothing", () => {
    const { doc, plan } = agreed();
    const cs = emptyChangeset(doc.owner.id, doc.owner.version);
    cs.revokeWindows.push({ id: plan.windows[0]!.id, at: deps.now, reason: "owner_request" });
    cs.closeWindows.push({ id: "not-a-window", at: deps.now });
    const before = structuredClone(doc);
    expect(() => apply(doc, cs, deps)).toThrow(/not a record of this owner/);
    expect(doc).toEqual(before);
  });

  it("keeps the first revocation time, and counts attempts once per Idempotency-Key", () => {
    const { doc, plan } = agreed();
    const window = plan.windows[0]!;
    const first = emptyChangeset(doc.owner.id, doc.owner.version);
    first.attempts = [anAttempt(window, { idempotencyKey: "k1" })];
    first.revokeWindows.push({ id: window.id, at: "2026-06-03T00:00:00.000Z", reason: "owner_request" });
    const once = apply(doc, first, deps);
    expect(once.windows[0]?.attempts_used).toBe(1);
    const again = emptyChangeset(doc.owner.id, once.owner.version);
    again.revokeWindows.push({ id: window.id, at: "2026-06-09T00:00:00.000Z", reason: "renewed" });
    const twice = apply(once, again, deps);
    expect([twice.windows[0]?.revoked_at, twice.windows[0]?.revoke_reason]).toEqual([
      "2026-06-03T00:00:00.000Z",
      "owner_request",
    ]);
    const repeat = emptyChangeset(doc.owner.id, twice.owner.version);
    repeat.attempts = [anAttempt(window, { idempotencyKey: "k1" })];
    expect(() => apply(twice, repeat, deps)).toThrow(DuplicateError);
  });

  it("finishes delivered entries once and marks the window delivered", () => {
    const { doc, plan } = agreed();
    const opened = plan.outbox.find((e) => e.type === "window.opened")!;
    const row = {
      ...doc.outbox.find((e) => e.id === opened.id)!,
      state: "delivered",
      attempts: 1,
      delivered_at: deps.now,
      finished_at: deps.now,
      lease_until: null,
      lease_worker: null,
    };
    const next = finishEntries(doc, [row]);
    expect(next?.outbox.find((e) => e.id === opened.id)?.state).toBe("delivered");
    expect(next?.windows[0]?.delivered_at).toBe(deps.now);
    expect(next?.owner.version).toBe(doc.owner.version);
    expect(next && finishEntries(next, [row])).toBeUndefined();
  });

  it("sets a mark once and erases as /delete says", () => {
    const { doc, plan } = agreed();
    const marked = markOnce(doc, "optOuts", plan.optOuts[0]!.id, "ack_notified_at", deps.now);
    expect(marked?.optOuts[0]?.ack_notified_at).toBe(deps.now);
    expect(marked && markOnce(marked, "optOuts", plan.optOuts[0]!.id, "ack_notified_at", T0)).toBeUndefined();
    const gone = erase(doc, deps.now);
    expect(gone.owner).toMatchObject({ telegram_user_id: null, phone_enc: null, deleted_at: deps.now });
    expect(gone.receipts[0]).toMatchObject({
      jws: null,
      owner_id: null,
      payload_hash: plan.receipts[0]!.payloadHash,
    });
    expect(gone.optOuts.every((o) => o.owner_id === null && o.match_key.length > 0)).toBe(true);
    expect(gone.consents[0]?.preferences).toBeNull();
  });
});

describe("upgrades", () => {
  it("refuses to rewrite a document of a newer schema, and says why", () => {
    const doc = { ...aDoc(), schema: SCHEMA_VERSION + 1 };
    expect(() => assertWritable(doc)).toThrow(NewerSchemaError);
    expect(() => assertWritable(doc)).toThrow(/newer onewindow.*upgrade every process/);
    expect(() => assertWritable(aDoc())).not.toThrow();
  });

  it("keeps fields and record kinds it does not know through every change and encoding", () => {
    const { doc, plan } = agreed();
    const stored = JSON.parse(String(encodeDoc(doc, "j")).replace(/^(?:[^:]*:){3}/, "")) as Record<
      string,
      unknown
    >;
    const future = {
      ...stored,
      claims: [{ id: "c1", kind: "from a later build" }],
      owner: { ...(stored.owner as object), loyalty: { tier: 2 } },
      optOuts: (stored.optOuts as object[]).map((o) => ({ ...o, channelScope: ["sms"] })),
    };
    const read = decodeDoc(`${SCHEMA_VERSION}:1:j:${JSON.stringify(future)}`)!;
    const cs = emptyChangeset(read.owner.id, read.owner.version);
    cs.withdrawOptOuts.push({ id: plan.optOuts[0]!.id, at: deps.now });
    let next = apply(read, cs, deps);
    next = updateProfile(next, { name: "Lin" }, deps);
    next = erase(next, deps.now);
    for (const encoding of ["j", "z1", "b1"] as const) {
      const back = decodeDoc(encodeDoc(next, encoding)) as OwnerDoc & Record<string, unknown>;
      expect(back.claims).toEqual([{ id: "c1", kind: "from a later build" }]);
      expect((back.owner as Record<string, unknown>).loyalty).toEqual({ tier: 2 });
      expect(back.optOuts.map((o) => (o as Record<string, unknown>).channelScope)).toEqual(
        plan.optOuts.map(() => ["sms"]),
      );
      expect(back.optOuts[0]?.withdrawn_at).toBe(deps.now);
    }
  });
});
