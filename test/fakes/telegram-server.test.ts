import { autoRetry } from "@grammyjs/auto-retry";
import { Bot, GrammyError, InlineKeyboard, InputFile } from "grammy";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type FakeTelegram, parseMultipart, startFakeTelegram, updates } from "./telegram-server.js";

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

let fake: FakeTelegram;
beforeEach(async () => {
  fake = await startFakeTelegram();
});
afterEach(async () => {
  await fake.close();
});

const makeBot = (): Bot => new Bot(fake.token, { botInfo: fake.botInfo, client: { apiRoot: fake.apiRoot } });

describe("fake Telegram server with a long-polling grammY bot", () => {
  it("delivers text and button presses, stays idle quietly, and survives a 429", async () => {
    const bot = makeBot();
    bot.api.config.use(autoRetry());
    bot.on("message:text", (ctx) =>
      ctx.reply(`echo: ${ctx.message.text}`, { reply_markup: new InlineKeyboard().text("Press", "press:1") }),
    );
    bot.on("callback_query:data", (ctx) =>
      ctx.answerCallbackQuery({ text: `got ${ctx.callbackQuery.data}` }),
    );

    const started = new Promise<void>((resolve) => {
      void bot.start({ onStart: () => resolve() });
    });
    await started;

    const alice = fake.user(42, { firstName: "Alice", languageCode: "zh" });
    alice.sendText("hello");
    const reply = await fake.waitFor((c) => c.method === "sendMessage" && c.payload.chat_id === 42);
    expect(reply.payload.text).toBe("echo: hello");
    const sentMsg = fake.sent(42)[0];
    expect(sentMsg?.text).toBe("echo: hello");
    expect(sentMsg?.message.reply_markup?.inline_keyboard[0]?.[0]).toMatchObject({
      callback_data: "press:1",
    });

    const press = alice.pressButton("press:1");
    expect(press.callback_query?.message?.message_id).toBe(sentMsg?.messageId);
    const answered = await fake.waitFor("answerCallbackQuery");
    expect(answered.payload.callback_query_id).toBe(press.callback_query?.id);
    expect(answered.answer?.ok).toBe(true);

    // Idle: long polling must hold the request, not spin.
    await sleep(100);
    const before = fake.calls.filter((c) => c.method === "getUpdates").length;
    await sleep(1000);
    const after = fake.calls.filter((c) => c.method === "getUpdates").length;
    expect(after - before).toBeLessThan(10);

    // A 429 with retry_after is retried by auto-retry.
    fake.clearCalls();
    fake.failNext("sendMessage", { error_code: 429, retry_after: 1 });
    alice.sendText("again");
    const ok = await fake.waitFor((c) => c.method === "sendMessage" && c.answer?.ok === true, 5000);
    expect(ok.payload.text).toBe("echo: again");
    const attempts = fake.calls.filter((c) => c.method === "sendMessage");
    expect(attempts).toHaveLength(2);
    expect(attempts[0]?.answer).toMatchObject({ ok: false, error_code: 429, parameters: { retry_after: 1 } });

    await bot.stop();
    expect(fake.pendingUpdates()).toHaveLength(0); // every update confirmed through offset
  });

  it("uploads a document as multipart and keeps name and bytes", async () => {
    const bot = makeBot();
    const msg = await bot.api.sendDocument(7, new InputFile(Buffer.from('{"a":1}'), "export.json"), {
      caption: "Your data",
    });
    expect(msg.document?.file_name).toBe("export.json");
    const sent = fake.sent(7).at(-1);
    expect(sent?.method).toBe("sendDocument");
    expect(sent?.text).toBe("Your data");
    expect(sent?.document?.filename).toBe("export.json");
    expect(sent?.document?.json()).toEqual({ a: 1 });
    expect(sent?.payload.chat_id).toBe(7);
  });
});

describe("fake Telegram server protocol", () => {
  it("answers Telegram's error shape for bad tokens and unknown methods", async () => {
    const bad = await fetch(`${fake.apiRoot}/bot1:wrong/getMe`, { method: "POST" });
    expect(bad.status).toBe(401);
    expect(await bad.json()).toEqual({ ok: false, error_code: 401, description: "Unauthorized" });
    const unknown = await fetch(`${fake.apiRoot}/bot${fake.token}/sendMesage`, { method: "POST" });
    expect(await unknown.json()).toMatchObject({ ok: false, error_code: 404, description: "Not Found" });
    const other = await makeBot().api.pinChatMessage(42, 1);
    expect(other).toBe(true);
    expect(fake.calls.map((c) => c.method)).toContain("pinChatMessage");
  });

  it("holds getUpdates until timeout and honours offset and limit", async () => {
    const bot = makeBot();
    const t0 = Date.now();
    expect(await bot.api.getUpdates({ timeout: 1 })).toEqual([]);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(900);

    const u = fake.user(5);
    const first = u.sendText("one");
    u.sendText("two");
    const batch = await bot.api.getUpdates({ limit: 1, timeout: 0 });
    expect(batch.map((x) => x.update_id)).toEqual([first.update_id]);
    const rest = await bot.api.getUpdates({ offset: first.update_id + 1, timeout: 0 });
    expect(rest.map((x) => x.message?.text)).toEqual(["two"]);
    expect(fake.pendingUpdates()).toHaveLength(1);

    const waiting = bot.api.getUpdates({ offset: first.update_id + 2, timeout: 10 });
    await sleep(50);
    u.sendCommand("/start", "stop_abc");
    const woke = await waiting;
    expect(woke[0]?.message?.entities).toEqual([{ type: "bot_command", offset: 0, length: 6 }]);
    expect(woke[0]?.message?.text).toBe("/start stop_abc");
  });

  it("rejects bad HTML, oversized callback data and no-op edits like Telegram", async () => {
    const api = makeBot().api;
    await expect(api.sendMessage(1, "<b>bold", { parse_mode: "HTML" })).rejects.toBeInstanceOf(GrammyError);
    await expect(api.sendMessage(1, "a < b", { parse_mode: "HTML" })).rejects.toThrow(/can't parse entities/);
    const html = await api.sendMessage(1, "<b>Hi</b> &amp; bye", { parse_mode: "HTML" });
    expect(html.text).toBe("Hi & bye");
    await expect(
      api.sendMessage(1, "x", { reply_markup: new InlineKeyboard().text("x", "d".repeat(65)) }),
    ).rejects.toThrow(/BUTTON_DATA_INVALID/);
    const m = await api.sendMessage(1, "same", { reply_markup: new InlineKeyboard().text("k", "k") });
    await expect(
      api.editMessageText(1, m.message_id, "same", { reply_markup: new InlineKeyboard().text("k", "k") }),
    ).rejects.toThrow(/message is not modified/);
    await api.editMessageText(1, m.message_id, "changed");
    expect(fake.message(1, m.message_id)?.reply_markup).toBeUndefined();
    await api.deleteMessage(1, m.message_id);
    await expect(api.deleteMessage(1, m.message_id)).rejects.toThrow(/message to delete not found/);
  });

  it("stores commands per language and builds contact, sticker, photo and edit updates", async () => {
    const api = makeBot().api;
    await api.setMyCommands([{ command: "start", description: "Start" }]);
    await api.setMyCommands([{ command: "start", description: "开始" }], { language_code: "zh" });
    expect(fake.commands("zh")).toEqual([{ command: "start", description: "开始" }]);
    expect(await api.getMyCommands()).toEqual([{ command: "start", description: "Start" }]);
    await expect(api.setMyCommands([{ command: "Bad-One", description: "x" }])).rejects.toThrow(
      /BOT_COMMAND_INVALID/,
    );

    const bob = fake.user(9, { firstName: "Bob" });
    expect(bob.shareContact({ phone_number: "+85291234567" }).message?.contact).toEqual({
      phone_number: "+85291234567",
      first_name: "Bob",
      user_id: 9,
    });
    expect(bob.shareContact({ phone_number: "+1", user_id: 10 }).message?.contact?.user_id).toBe(10);
    expect(bob.sendSticker().message?.sticker?.emoji).toBeDefined();
    expect(bob.sendPhoto("pic").message?.photo?.length).toBe(2);
    expect(bob.editText(3, "fixed").edited_message?.text).toBe("fixed");
    expect(() => bob.pressButton("nothing")).toThrow(/no bot message in chat 9/);
    fake.enqueue({ weird: true });
    expect(fake.pendingUpdates().at(-1)).toMatchObject({ weird: true, update_id: expect.any(Number) });
  });

  it("waitFor resolves with later calls and explains timeouts", async () => {
    const pending = fake.waitFor("sendChatAction", 2000);
    await makeBot().api.sendChatAction(3, "typing");
    expect((await pending).payload).toMatchObject({ chat_id: 3, action: "typing" });
    await makeBot().api.sendMessage(3, "hi");
    await expect(fake.waitFor("editMessageText", 100)).rejects.toThrow(
      /timed out after 100 ms[\s\S]*sendMessage/,
    );
  });

  it("serves handleUpdate tests through the plain update builders", async () => {
    const bot = makeBot();
    let match = "";
    bot.command("start", async (ctx) => {
      match = ctx.match;
      await ctx.reply("welcome");
    });
    await bot.handleUpdate(updates(77, { languageCode: "en" }).sendCommand("/start", "stop_x1"));
    expect(match).toBe("stop_x1");
    expect(fake.sent(77).map((s) => s.text)).toEqual(["welcome"]);
  });

  it("parses grammY-style multipart without spaces", () => {
    const body = Buffer.from(
      '--XX\r\ncontent-disposition:form-data;name="chat_id"\r\n\r\n5\r\n--XX\r\ncontent-disposition:form-data;name="abc";filename=a b.json\r\ncontent-type:application/octet-stream\r\n\r\n{"x":2}\r\n--XX--\r\n',
    );
    const parts = parseMultipart(body, "XX");
    expect(parts.map((p) => [p.name, p.filename, p.bytes.toString()])).toEqual([
      ["chat_id", undefined, "5"],
      ["abc", "a b.json", '{"x":2}'],
    ]);
  });
});
