/**
 * What the compact Redis layout must guarantee beyond the store contract: every encoding gives
 * back exactly what it was given (or keeps the value verbatim), encoded ids sort like the ids,
 * and a store written in another layout is refused with a configuration error.
 */
import { createHash, randomBytes, randomUUID } from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import { ConfigError } from "../../src/config.js";
import { createFieldCipher } from "../../src/crypto/field-cipher.js";
import { uuidv7, uuidv7Group } from "../../src/crypto/uuid-v7.js";
import {
  type DocContext,
  decodeDays,
  decodeHex,
  decodeId,
  decodeJws,
  decodeList,
  decodeRelId,
  decodeRow,
  decodeText,
  decodeTime,
  decodeToken,
  decodeType,
  encodeDays,
  encodeHex,
  encodeId,
  encodeJws,
  encodeList,
  encodeRelId,
  encodeRow,
  encodeText,
  encodeTime,
  encodeToken,
  encodeType,
  LAYOUT_VERSION,
  sortableMs,
  unpackRecords,
} from "../../src/store/redis/codec.js";
import { createIoredisCommands } from "../../src/store/redis/ioredis-client.js";
import { idField, phoneField } from "../../src/store/redis/keys.js";
import { createRedisStore } from "../../src/store/redis/redis-store.js";
import { deleteKeys, TEST_REDIS_URL, uniquePrefix } from "../support/redis.js";
import { packRecords } from "./support/pack-records.js";

describe("redis value encodings", () => {
  it("round-trips ids, keeping non-UUIDs verbatim", () => {
    for (const id of [
      randomUUID(),
      `msg_${randomUUID()}`,
      "w1",
      "",
      "!x",
      "~y",
      randomUUID().toUpperCase(),
    ]) {
      expect(decodeId(encodeId(id))).toBe(id);
    }
    expect(encodeId(randomUUID())).toHaveLength(22);
  });

  it("keeps UUID order in the encoded form", () => {
    const ids = Array.from({ length: 200 }, () => randomUUID());
    const sorted = [...ids].sort();
    expect(ids.map(encodeId).sort().map(decodeId)).toEqual(sorted);
  });

  it("round-trips times, hex digests, texts, lists and JWS", () => {
    for (const t of ["2026-07-01T00:00:00.000Z", "2026-07-01T00:00:00Z", "2026-07-01"]) {
      expect(decodeTime(encodeTime(t))).toBe(t);
    }
    expect(typeof encodeTime("2026-07-01T00:00:00.123Z")).toBe("number");
    const hex = randomBytes(32).toString("hex");
    for (const h of [hex, "ABC", "mk-a-1", ""]) expect(decodeHex(encodeHex(h))).toBe(h);
    expect(encodeHex(hex)).toHaveLength(43);
    for (const text of ["", "short", '{"renewalDate":"2026-12-17","insurers":["ins02"]}', "x".repeat(500)]) {
      expect(decodeText(encodeText(text))).toBe(text);
    }
    for (const list of ['["call","sms"]', "[]", '[""]', '["a,b"]', '["!x"]', '[ "call" ]', "[1]"]) {
      expect(decodeList(encodeList(list))).toBe(list);
    }
    const segment = (n: number) => randomBytes(n).toString("base64url");
    const jws = `${Buffer.from('{"alg":"EdDSA"}').toString("base64url")}.${segment(600)}.${segment(64)}`;
    for (const j of [jws, "not.a.jws.at-all", "a.b", "eyJ.%%.x"]) expect(decodeJws(encodeJws(j))).toBe(j);
  });

  it("round-trips ids relative to their record's id, whatever they share", () => {
    const now = Date.now();
    const own = uuidv7(now);
    for (const id of [
      uuidv7(now),
      `msg_${uuidv7(now)}`,
      uuidv7(now + 1),
      randomUUID(),
      `msg_${randomUUID()}`,
      "w1",
      "msg_x",
      "",
    ]) {
      expect(decodeRelId(encodeRelId(id, own), own)).toBe(id);
      expect(decodeRelId(encodeRelId(id, "w1"), "w1")).toBe(id);
    }
    // Same millisecond: 8 digits shared (more by chance); same changeset: 11.
    expect(encodeRelId(uuidv7(now), own).length).toBeLessThanOrEqual(15);
    expect(encodeRelId(`msg_${uuidv7(now)}`, own).length).toBeLessThanOrEqual(16);
    const sibling = uuidv7Group();
    const first = sibling(now);
    for (const id of [sibling(now), sibling(now)]) {
      expect(encodeRelId(id, first).length).toBeLessThanOrEqual(12);
      expect(decodeRelId(encodeRelId(id, first), first)).toBe(id);
    }
  });

  it("round-trips field-cipher tokens, keeping anything else", () => {
    const cipher = createFieldCipher(randomBytes(32));
    for (const text of ["+8613812345678", "", "张三", "x".repeat(300)]) {
      const token = cipher.encrypt(text);
      const packed = encodeToken(token);
      expect(packed.length).toBeLessThan(token.length);
      expect(decodeToken(packed)).toBe(token);
      expect(cipher.decrypt(decodeToken(packed))).toBe(text);
    }
    for (const odd of ["v1.a.b.c", "v2.x.y.z", "", "~x", "!y", "plain"])
      expect(decodeToken(encodeToken(odd))).toBe(odd);
  });

  it("round-trips outbox types and weekday lists, keeping anything else", () => {
    for (const type of [
      "window.opened",
      "window.revoked",
      "optout.filed",
      "optout.withdrawn",
      "W",
      "!x",
      "",
    ]) {
      expect(decodeType(encodeType(type))).toBe(type);
    }
    expect(encodeType("optout.filed")).toBe(3);
    for (const days of [
      '["mon","tue","wed","thu","fri","sat","sun"]',
      '["mon","fri"]',
      "[]",
      '["fri","mon"]',
      '["mon","mon"]',
      '["holiday"]',
      '[ "mon" ]',
    ]) {
      expect(decodeDays(encodeDays(days))).toBe(days);
    }
    expect(encodeDays('["mon","tue","wed","thu","fri","sat","sun"]')).toBe(127);
  });

  it("keeps time order in sortable times", () => {
    const times = Array.from({ length: 200 }, () =>
      new Date(Date.UTC(2001, 0, 1) + Math.floor(Math.random() * 300 * 365 * 86_400_000)).toISOString(),
    );
    const order = (list: string[]) => [...list].sort();
    expect(times.map(sortableMs)).toHaveLength(200);
    expect(order(times.map(sortableMs))).toEqual(order(times).map(sortableMs));
    expect(sortableMs("2026-07-01T00:00:00.000Z")).toHaveLength(8);
  });

  it("splits a receipt JWS into signature, tokens and a skeleton, and back exactly", () => {
    const jti = uuidv7();
    const header = { alg: "EdDSA", kid: randomBytes(32).toString("base64url"), typ: "consent-receipt+jws" };
    const payload = {
      version: "onewindow-receipt/1",
      jurisdiction: "CN",
      iat: 1795831090,
      jti,
      iss: "onewindow",
      sub: randomBytes(32).toString("hex"),
      recipient: { id: "ins03", name: "平安 Insurer 3", contact: "ins03 95500" },
      windowId: uuidv7(),
      window: { opensAt: "2026-11-28T01:58:10.056Z", closesAt: "2026-12-18T16:00:00.000Z", hours: [] },
      consentText: { version: "2026-01", sha256: randomBytes(32).toString("hex"), language: "zh" },
      odd: ["2026-11-28T01:58:10Z", "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopq", "0".repeat(64)],
    };
    const segment = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
    const jws = `${segment(header)}.${segment(payload)}.${randomBytes(64).toString("base64url")}`;
    const packed = encodeJws(jws, jti);
    expect(packed.startsWith("*")).toBe(true);
    expect(packed.length).toBeLessThan(jws.length / 2);
    expect(decodeJws(packed, jti)).toBe(jws);
    expect(decodeJws(encodeJws(jws), undefined)).toBe(jws);
    // A JSON text with a control character is kept another way, still exactly.
    const raw = `{"a":"${String.fromCharCode(1)}"}`;
    const odd = `${segment(header)}.${Buffer.from(raw).toString("base64url")}.${segment("s")}`;
    expect(decodeJws(encodeJws(odd, jti), jti)).toBe(odd);
  });

  it("leaves out what a record's other fields give back, and restores it", () => {
    const jws = `${Buffer.from('{"alg":"EdDSA"}').toString("base64url")}.${Buffer.from('{"jti":"x"}').toString("base64url")}.${randomBytes(64).toString("base64url")}`;
    const hash = createHash("sha256").update('{"jti":"x"}').digest("hex");
    const receipt = {
      id: uuidv7(),
      owner_id: randomUUID(),
      insurer_id: "a",
      consent_id: uuidv7(),
      jws,
      payload_hash: hash,
      issued_at: "2026-07-01T00:00:00.000Z",
      revoked_at: null,
      revoke_reason: null,
      name_enc: null,
      vehicle_enc: null,
    };
    const encoded = encodeRow("r", receipt);
    expect(encoded.payload_hash).toBeUndefined();
    expect(decodeRow("r", encoded)).toEqual(receipt);
    const other = { ...receipt, payload_hash: "ab".repeat(32) };
    expect(decodeRow("r", encodeRow("r", other))).toEqual(other);
    const entry = {
      id: uuidv7(),
      insurer_id: "a",
      owner_id: randomUUID(),
      type: "optout.filed",
      subject_id: uuidv7(),
      webhook_id: `msg_${uuidv7()}`,
      due_at: "2026-07-01T00:00:00.000Z",
      created_at: "2026-07-01T00:00:00.000Z",
      next_attempt_at: "2026-07-01T00:00:00.000Z",
      state: "delivered",
      attempts: 1,
      delivered_at: "2026-07-01T00:00:01.000Z",
      last_error: null,
    };
    const x = encodeRow("x", entry);
    expect(x.webhook_id).toBeDefined();
    expect(x.created_at).toBeUndefined();
    expect(x.next_attempt_at).toBeUndefined();
    const { owner_id: _, ...back } = entry;
    expect(decodeRow("x", x)).toEqual(back);
    const later = {
      ...entry,
      created_at: "2026-06-01T00:00:00.000Z",
      next_attempt_at: "2026-07-02T00:00:00.000Z",
    };
    const q = decodeRow<Record<string, unknown>>("q", { ...encodeRow("q", later), id: encodeId(later.id) });
    expect(q).toMatchObject({ created_at: later.created_at, next_attempt_at: later.next_attempt_at });
    // The webhook id the planner gives (`msg_` + the entry's id) is left out, queued or done.
    const own = { ...entry, webhook_id: `msg_${entry.id}` };
    const { owner_id: __, ...ownBack } = own;
    expect(encodeRow("x", own).webhook_id).toBeUndefined();
    expect(decodeRow("x", encodeRow("x", own))).toEqual(ownBack);
    const queued: Record<string, unknown> = { ...encodeRow("q", own), id: encodeId(own.id) };
    expect(queued.webhook_id).toBeUndefined();
    expect(decodeRow<Record<string, unknown>>("q", queued).webhook_id).toBe(own.webhook_id);
  });

  it("packs a document's lists (ditto, shared prefixes, profile and record references) and back", () => {
    const owner = encodeId(randomUUID());
    const t = Date.now();
    const ms = (n: number) => t + n;
    const doc: DocContext = { o: { tz: "Asia/Shanghai", ph: "PH", j: "CN", ca: t - 10 }, records: {} };
    const lists: [("c" | "r" | "w" | "p" | "x")[], Record<string, unknown>[][]] = [
      ["c", "r", "w", "p", "x"],
      [
        [{ id: encodeId(uuidv7(t)), owner_id: owner, timezone: "Asia/Shanghai", agreed_at: ms(0) }],
        [{ id: encodeId(uuidv7(t)), owner_id: owner, insurer_id: "a", issued_at: ms(0) }],
        [],
        [],
        [],
      ],
    ];
    const [kinds, rows] = lists;
    const [c, r] = [rows[0]?.[0], rows[1]?.[0]] as Record<string, unknown>[];
    (rows[1]?.[0] as Record<string, unknown>).consent_id = c?.id;
    rows[2]?.push(
      {
        id: encodeId(uuidv7(t)),
        owner_id: owner,
        receipt_id: r?.id,
        consent_id: c?.id,
        timezone: "Europe/Paris",
      },
      {
        id: encodeId(uuidv7(t)),
        owner_id: null,
        receipt_id: "!r-other",
        consent_id: c?.id,
        timezone: "Europe/Paris",
      },
    );
    for (const insurer of ["a", "b", "c"]) {
      rows[3]?.push({
        id: encodeId(uuidv7(t)),
        insurer_id: insurer,
        phone_hash: insurer === "c" ? "OTHER" : "PH",
        match_key: randomBytes(32).toString("base64url"),
        reason: "not_chosen",
        effective_at: ms(1),
        honour_by: ms(1),
        owner_id: owner,
        until: ms(99),
      });
    }
    const subjects = [...(rows[3] ?? []), ...(rows[2] ?? []), { id: "!elsewhere" }];
    for (const subject of subjects) {
      rows[4]?.push({
        id: encodeId(uuidv7(t + 5)),
        insurer_id: "a",
        state: "delivered",
        subject_id: subject.id,
      });
    }
    rows[4]?.push({ id: "!pending", insurer_id: "b" });
    const packed = kinds.map((kind, i) => packRecords(kind, rows[i] ?? [], owner, { ...doc, records: {} }));
    // Pack with the lists before each one in place, as the scripts do.
    const context: DocContext = { o: doc.o, records: {} };
    const stored = kinds.map((kind, i) => {
      const list = packRecords(kind, rows[i] ?? [], owner, context);
      context.records[kind] = rows[i];
      return list;
    });
    expect(JSON.stringify(stored).length).toBeLessThan(JSON.stringify(packed).length);
    const read: DocContext = { o: doc.o, records: {} };
    kinds.forEach((kind, i) => {
      read.records[kind] = unpackRecords(kind, JSON.parse(JSON.stringify(stored[i])), owner, read);
      const expected = (rows[i] ?? []).map((row) =>
        Object.fromEntries(Object.entries(row).filter(([, v]) => v !== null && v !== undefined)),
      );
      expect(read.records[kind]).toEqual(expected);
    });
  });

  it("gives the records of one changeset one id-index field, and digests other names", () => {
    const now = Date.now();
    const ids = uuidv7Group();
    const changeset = [ids(now), ids(now), ids(now)].map(encodeId);
    const fields = new Set(["w", "r", "p"].map((kind, i) => idField(`${kind}:${changeset[i]}`)));
    expect([...fields]).toEqual([`@${changeset[0]?.slice(0, 11)}`]);
    // Another changeset in the same millisecond draws other random bits: another field.
    const other = encodeId(uuidv7Group()(now));
    expect(idField(`w:${other}`)).not.toBe([...fields][0]);
    // Ids that are not UUIDs (tests' "w1") and stop tokens are digested.
    expect(idField("w:!w1")).toMatch(/^w[A-Za-z0-9_-]{8}$/);
    expect(idField(`t:${"x".repeat(22)}`)).toHaveLength(9);
    for (const field of ["g:12345", "a:abc", "k:hash"]) expect(idField(field)).toBe(field);
    expect(phoneField(encodeHex(randomBytes(32).toString("hex")))).toHaveLength(12);
  });
});

const url = TEST_REDIS_URL ?? "";

describe.skipIf(!TEST_REDIS_URL)("redis layout version", () => {
  const prefixes: string[] = [];
  afterAll(async () => {
    for (const prefix of prefixes) await deleteKeys(url, prefix);
  });
  const open = async (prefix: string) => {
    const store = await createRedisStore({
      redis: createIoredisCommands({ url }),
      cipher: createFieldCipher(randomBytes(32)),
      prefix,
    });
    await store.close();
  };
  const meta = async (prefix: string, ...args: string[]) => {
    const redis = createIoredisCommands({ url });
    await redis.call(args[0] as string, `${prefix}{meta}`, ...args.slice(1));
    await redis.close();
  };

  it("records its layout in a new store and opens it again", async () => {
    const prefix = uniquePrefix("layout");
    prefixes.push(prefix);
    await open(prefix);
    await open(prefix);
    const redis = createIoredisCommands({ url });
    expect(await redis.call("HGET", `${prefix}{meta}`, "layout")).toBe(LAYOUT_VERSION);
    await redis.close();
  });

  it("refuses a store from before layout versions, and one of another layout", async () => {
    const old = uniquePrefix("layout");
    const other = uniquePrefix("layout");
    prefixes.push(old, other);
    await meta(old, "HSET", "keys.data", "fingerprint");
    await expect(open(old)).rejects.toThrow(ConfigError);
    await meta(other, "HSET", "layout", "999");
    await expect(open(other)).rejects.toThrow(/layout 999.*REDIS_PREFIX|REDIS_PREFIX.*layout 999/);
  });
});
