import type { Update } from "grammy/types";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type BotHarness, startBotHarness } from "../support/bot-harness.js";
import { sessionOf } from "./flow.js";

const now = () => Math.floor(Date.now() / 1000);

describe("robustness", () => {
  let h: BotHarness;
  beforeEach(async () => {
    h = await startBotHarness();
  });
  afterEach(() => h.close());

  it("answers a sticker and a photo politely", async () => {
    const u = h.user(9001);
    await u.command("/start");
    const sticker = await u.deliver(u.sim.sendSticker());
    expect(u.texts(sticker)).toContain("I understand text, buttons and contact cards only.");
    const photo = await u.deliver(u.sim.sendPhoto("my policy"));
    expect(u.texts(photo)).toContain("I understand text, buttons and contact cards only.");
    expect(await sessionOf(h, 9001)).toMatchObject({ step: "phone" });
  });

  it("ignores an edited message without an error", async () => {
    const u = h.user(9002);
    const start = await u.command("/start");
    const before = JSON.stringify(await sessionOf(h, 9002));
    const sent = await u.deliver(u.sim.editText(start[0]!.messageId, "31 July"));
    expect(sent).toEqual([]);
    expect(JSON.stringify(await sessionOf(h, 9002))).toBe(before);
  });

  it("ignores a group-chat message and a channel post", async () => {
    const group = {
      update_id: 910_001,
      message: {
        message_id: 1,
        date: now(),
        chat: { id: -4001, type: "group", title: "Family" },
        from: { id: 9003, is_bot: false, first_name: "Lin" },
        text: "/start",
        entities: [{ type: "bot_command", offset: 0, length: 6 }],
      },
    } as unknown as Update;
    expect(await h.deliver(group)).toEqual([]);
    const channel = {
      update_id: 910_002,
      channel_post: {
        message_id: 1,
        date: now(),
        chat: { id: -100_4002, type: "channel", title: "News" },
        text: "expires 31 July",
      },
    } as unknown as Update;
    expect(await h.deliver(channel)).toEqual([]);
    expect(await h.services.store.getOwnerByTelegramId(9003)).toBeUndefined();
    expect(await h.services.store.readSession("-4001")).toBeUndefined();
  });

  it("answers a callback query with unknown data, changing nothing", async () => {
    const u = h.user(9004);
    await u.command("/start");
    const before = JSON.stringify(await sessionOf(h, 9004));
    const update = u.sim.pressButton("zz:unknown", 1);
    const queryId = update.callback_query!.id;
    const sent = await u.deliver(update);
    expect(sent).toEqual([]);
    expect(
      h.fake.calls.some((c) => c.method === "answerCallbackQuery" && c.payload.callback_query_id === queryId),
    ).toBe(true);
    expect(JSON.stringify(await sessionOf(h, 9004))).toBe(before);
  });

  it("answers a stale onboarding button as outdated, changing nothing", async () => {
    const u = h.user(9005);
    await u.command("/start");
    const before = JSON.stringify(await sessionOf(h, 9005));
    for (const data of [
      "ob:ch:sms",
      "ob:agree",
      "ob:edit:insurers",
      "stop:pingan",
      "del:yes",
      "stop:nosuch",
    ]) {
      const update = u.sim.pressButton(data, 1);
      await u.deliver(update);
      const answer = h.fake.calls.find(
        (c) =>
          c.method === "answerCallbackQuery" && c.payload.callback_query_id === update.callback_query!.id,
      );
      expect(answer, data).toBeDefined();
    }
    const outdated = h.fake.calls.find(
      (c) => c.method === "answerCallbackQuery" && typeof c.payload.text === "string",
    );
    expect(outdated?.payload.text).toContain("already answered");
    const session = await sessionOf(h, 9005);
    expect(JSON.stringify(session)).toBe(before);
    expect((await h.services.store.getOwnerByTelegramId(9005))?.deletedAt).toBeUndefined();
  });

  it("does not throw on a malformed update (a message without from)", async () => {
    const malformed = {
      update_id: 910_003,
      message: {
        message_id: 1,
        date: now(),
        chat: { id: 9006, type: "private", first_name: "X" },
        text: "hi",
      },
    } as unknown as Update;
    await expect(h.deliver(malformed)).resolves.toBeDefined();
    const noMessage = { update_id: 910_004 } as unknown as Update;
    await expect(h.deliver(noMessage)).resolves.toBeDefined();
    const callbackWithoutMessage = {
      update_id: 910_005,
      callback_query: {
        id: "cq-1",
        from: { id: 9007, is_bot: false, first_name: "Y" },
        chat_instance: "x",
        data: "ob:agree",
      },
    } as unknown as Update;
    await expect(h.deliver(callbackWithoutMessage)).resolves.toBeDefined();
    // Even a press with no chat is answered, so the client's spinner stops.
    expect(
      h.fake.calls.some((c) => c.method === "answerCallbackQuery" && c.payload.callback_query_id === "cq-1"),
    ).toBe(true);
  });

  it("a burst of 40 texts triggers exactly one 'very fast' notice", async () => {
    const u = h.user(9008);
    const sent = [];
    for (let i = 0; i < 40; i++) sent.push(...(await u.send(`hello ${i}`)));
    const notices = sent.filter((m) => m.text?.includes("sending messages very fast"));
    expect(notices).toHaveLength(1);
  });

  it("a button pressed by a flooding owner is still answered, every time, with the notice", async () => {
    const u = h.user(9009);
    await u.command("/language");
    const first = u.sim.pressButton("lang:en");
    const pressed: string[] = [];
    // The same button pressed 40 times (the bot takes the buttons away after the first).
    for (let i = 0; i < 40; i++) {
      const id = `flood-${i}`;
      pressed.push(id);
      await u.deliver({
        ...first,
        update_id: first.update_id + 1000 + i,
        callback_query: { ...first.callback_query!, id },
      });
    }
    const answered = h.fake.calls.filter(
      (c) => c.method === "answerCallbackQuery" && pressed.includes(String(c.payload.callback_query_id)),
    );
    expect(new Set(answered.map((c) => c.payload.callback_query_id)).size).toBe(40);
    expect(answered.filter((c) => String(c.payload.text ?? "").includes("very fast")).length).toBeGreaterThan(
      0,
    );
  });

  it("drops an update whose text is not a string before any feature reads it, and keeps working", async () => {
    const bad = {
      update_id: 910_010,
      message: {
        message_id: 5,
        date: now(),
        chat: { id: 9010, type: "private", first_name: "Z" },
        from: { id: 9010, is_bot: false, first_name: "Z" },
        text: { evil: true },
      },
    } as unknown as Update;
    const sent = await h.deliver(bad);
    expect(sent).toEqual([]);
    expect(await h.services.store.getOwnerByTelegramId(9010)).toBeUndefined();
    // A press with a malformed message part is still answered; the chat then works as usual.
    const press = {
      update_id: 910_011,
      callback_query: { id: "cq-bad", from: { id: 9010, is_bot: false, first_name: "Z" }, data: 42 },
    } as unknown as Update;
    await h.deliver(press);
    expect(
      h.fake.calls.some(
        (c) => c.method === "answerCallbackQuery" && c.payload.callback_query_id === "cq-bad",
      ),
    ).toBe(true);
    const u = h.user(9010);
    expect(u.texts(await u.command("/start"))).toContain("onewindow");
  });
});
