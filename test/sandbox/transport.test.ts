import { InputFile } from "grammy";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { SANDBOX_USER_ID_BASE } from "../../src/sandbox/create-sandbox.js";
import type { SandboxUser } from "../../src/sandbox/transport.js";
import { startSandboxHarness } from "./support.js";

type Harness = Awaited<ReturnType<typeof startSandboxHarness>>;

describe("the sandbox's in-process Telegram transport", () => {
  let h: Harness;
  const user: SandboxUser = { id: SANDBOX_USER_ID_BASE + 1, firstName: "Lin", languageCode: "en" };
  beforeEach(async () => {
    h = await startSandboxHarness();
    await h.sandbox.start("http://127.0.0.1:9");
  });
  afterEach(() => h.close());

  it("captures the real bot's replies: text, the share-my-contact reply keyboard, inline keyboards", async () => {
    const { bot, transport } = h.sandbox;
    await bot.handleUpdate(transport.text(user, "/start"));
    let snap = transport.snapshot(user.id);
    expect(snap.messages[0]).toMatchObject({ from: "user", text: "/start" });
    expect(
      snap.messages
        .filter((m) => m.from === "bot")
        .map((m) => m.text)
        .join("\n"),
    ).toContain("onewindow");
    expect(snap.replyKeyboard?.rows.flat().some((b) => b.requestContact)).toBe(true);

    await bot.handleUpdate(transport.contact(user, "+8613812345678"));
    snap = transport.snapshot(user.id);
    expect(snap.messages.some((m) => m.from === "user" && m.contact?.phone === "•••• 5678")).toBe(true);
    expect(snap.replyKeyboard).toBeUndefined(); // remove_keyboard after the contact
    const withSkip = snap.messages.findLast((m) =>
      m.inlineKeyboard?.flat().some((b) => b.callbackData === "ob:vehicle:skip"),
    );
    expect(withSkip).toBeDefined();

    // A press carries the message it belongs to; the bot answers the query and edits the markup.
    await bot.handleUpdate(transport.press(user, withSkip!.messageId, "ob:vehicle:skip"));
    snap = transport.snapshot(user.id);
    expect(snap.messages.at(-1)?.text).toContain("When does your policy expire?");
    expect(transport.calls.some((c) => c.method === "answerCallbackQuery" && c.ok)).toBe(true);
    expect(snap.messages.find((m) => m.messageId === withSkip!.messageId)?.inlineKeyboard).toBeUndefined();
    // Sandbox owners are sandbox data.
    expect((await h.services.store.getOwnerByTelegramId(user.id))?.sandbox).toBe(true);
  });

  it("refuses a press on a button that is not on the message", async () => {
    const { bot, transport } = h.sandbox;
    await bot.handleUpdate(transport.text(user, "/start"));
    const botMessage = transport.snapshot(user.id).messages.find((m) => m.from === "bot")!;
    expect(() => transport.press(user, botMessage.messageId, "stop:all")).toThrow(/no longer/);
  });

  it("parses grammY's multipart upload of a document (sendDocument)", async () => {
    const { bot, transport } = h.sandbox;
    const sent = await bot.api.sendDocument(
      user.id,
      new InputFile(Buffer.from('{"hello":"世界"}'), "export.json"),
      { caption: "your data" },
    );
    expect(sent.document?.file_name).toBe("export.json");
    const m = transport.snapshot(user.id).messages.at(-1)!;
    expect(m).toMatchObject({ from: "bot", text: "your data", document: { fileName: "export.json" } });
    const file = transport.file(m.document!.fileId)!;
    expect(JSON.parse(file.bytes.toString("utf8"))).toEqual({ hello: "世界" });
    expect(file.mimeType).toBe("application/json");
  });

  it("answers Telegram's errors: editing an unknown message, an unmodified edit", async () => {
    const { bot } = h.sandbox;
    await expect(bot.api.editMessageText(user.id, 999, "x")).rejects.toThrow(/message to edit not found/);
    const m = await bot.api.sendMessage(user.id, "hi");
    await expect(bot.api.editMessageText(user.id, m.message_id, "hi")).rejects.toThrow(/not modified/);
    await bot.api.editMessageText(user.id, m.message_id, "hello");
    expect(h.sandbox.transport.snapshot(user.id).messages.at(-1)).toMatchObject({
      text: "hello",
      edited: true,
    });
  });

  it("registers the bot's commands in English and Chinese", () => {
    expect(h.sandbox.transport.commands("").map((c) => c.command)).toContain("stop");
    expect(h.sandbox.transport.commands("zh").find((c) => c.command === "stop")?.description).not.toBe(
      h.sandbox.transport.commands("").find((c) => c.command === "stop")?.description,
    );
  });

  it("/export arrives as a downloadable document", async () => {
    const { bot, transport } = h.sandbox;
    await bot.handleUpdate(transport.text(user, "/start"));
    await bot.handleUpdate(transport.contact(user, "+8613812345678"));
    await bot.handleUpdate(transport.text(user, "/export"));
    const doc = transport.snapshot(user.id).messages.findLast((m) => m.document);
    expect(doc?.document?.fileName).toMatch(/\.json$/);
    const data = JSON.parse(transport.file(doc!.document!.fileId)!.bytes.toString("utf8")) as {
      owner: { sandbox: boolean };
    };
    expect(data.owner.sandbox).toBe(true);
  });
});
