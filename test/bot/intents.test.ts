/**
 * Issue 17, through the real bot: a report, a question, a stop, a renewal or thanks never
 * changes a draft, a summary or a consent, whatever insurers, channels or dates it mentions.
 * Each case is a message an owner sent and the bot misread before; each asserts what the owner
 * reads and that what is stored is unchanged.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type BotHarness, DIRECTORY, startBotHarness } from "../support/bot-harness.js";
import { contactAndSkip, onboard, renewalToSummary, sessionOf, stateOf } from "./flow.js";

/** To the summary with Ping An by SMS (buttons only). */
async function toSummaryFor(u: ReturnType<BotHarness["user"]>) {
  await contactAndSkip(u);
  await renewalToSummary(u, ["pingan"]);
}

describe("intents: what a message is for decides what it may change", () => {
  let h: BotHarness;
  beforeEach(async () => {
    h = await startBotHarness();
  });
  afterEach(() => h.close());

  it("a question about impersonation on the summary screen leaves the consent text as it was", async () => {
    const u = h.user(8101, { languageCode: "zh" });
    await contactAndSkip(u);
    await renewalToSummary(u, ["pingan"]);
    const before = await sessionOf(h, 8101);
    expect(before?.draft.channels).toEqual(["sms"]);

    const reply = u.texts(await u.send("有人冒充保险公司给我打电话怎么办"));
    expect(reply).not.toContain("明白了");
    expect(reply).toContain("/report");
    expect(reply).toContain("12321");
    // The summary above keeps its buttons; nothing in it changed.
    expect(reply).toContain("上面的摘要没有改变");
    expect(await sessionOf(h, 8101)).toEqual(before);

    await u.press("ob:agree");
    const consent = (await stateOf(h, 8101)).consent;
    expect(consent?.preferences.channels).toEqual(["sms"]);
  });

  it("after consent, a complaint, a renewal and thanks start no draft and change no consent", async () => {
    const u = h.user(8102, { languageCode: "zh" });
    await onboard(u, ["cpic"]);
    const consent = (await stateOf(h, 8102)).consent;

    const complaint = u.texts(await u.send("平安在我说不要之后还在打电话"));
    expect(complaint).toContain("很抱歉遇到这次来自（或冒用）中国平安名义的联系");
    expect(complaint).not.toContain("到期");
    expect(await sessionOf(h, 8102)).toMatchObject({ step: "idle", draft: {} });

    // "I already renewed" asks before it closes anything.
    const renewed = u.texts(await u.send("我已经续保了"));
    expect(renewed).toContain("你已经续保了？");
    expect(u.lastButtons()).toEqual([expect.stringMatching(/^rn:yes:/), expect.stringMatching(/^rn:no:/)]);

    const thanks = u.texts(await u.send("好的，谢谢"));
    expect(thanks).not.toContain("没能读出日期");
    expect(thanks).toContain("/status");

    const after = await stateOf(h, 8102);
    expect(after.consent?.id).toBe(consent?.id);
    expect(after.owner.renewedAt).toBeUndefined();
    expect(after.windows.every((w) => !w.revokedAt && !w.closedAt)).toBe(true);
  });

  it("a caller who could not quote the code is a report about them, not a choice of them", async () => {
    const u = h.user(8103);
    await contactAndSkip(u);
    const reply = await u.send("someone called me saying they're from Ping An but couldn't tell me the code");
    const text = u.texts(reply);
    expect(text).not.toContain("Got it");
    expect(text).toContain("in the name of, Ping An");
    // The open question is asked again, and nothing was filled in.
    expect(reply.at(-1)?.text).toContain("When does your policy expire?");
    expect(await sessionOf(h, 8103)).toMatchObject({ step: "renewalDate", draft: {} });
  });

  it("a report that asks how to report is a report, not the welcome and a choice", async () => {
    const u = h.user(8104);
    await onboard(u, ["pingan"]);
    const text = u.texts(
      await u.send("PICC called me yesterday even though I stopped them. How do I report this?"),
    );
    expect(text).toContain("in the name of, PICC");
    expect(text).toContain("note down");
    expect(text).not.toContain("Hello! I'm onewindow");
    expect(text).not.toContain("Got it: PICC");
    expect(text).not.toContain("When does your policy expire");
    expect(await sessionOf(h, 8104)).toMatchObject({ step: "idle", draft: {} });
  });

  it("a report that names no insurer says so, and /report is a registered command", async () => {
    const u = h.user(8105);
    await onboard(u, ["pingan"]);
    const text = u.texts(await u.send("someone called me at 11pm last night about car insurance"));
    expect(text).toContain("I'm sorry that happened");
    const report = u.texts(await u.command("/report"));
    expect(report).toContain("Where to complain: 12321");
    const commands = h.fake.calls.filter((c) => c.method === "setMyCommands");
    if (commands.length > 0) {
      for (const c of commands)
        expect((c.payload.commands as { command: string }[]).map((x) => x.command)).toContain("report");
    }
  });

  it("a question that names an insurer and a channel is answered, and the draft stays", async () => {
    const u = h.user(8106);
    await contactAndSkip(u);
    await u.send("31 July");
    const before = await sessionOf(h, 8106);
    const reply = await u.send("will PICC see my phone number if I pick them?");
    expect(u.texts(reply)).toContain("About onewindow");
    expect(await sessionOf(h, 8106)).toEqual(before);
    expect(reply.at(-1)?.text).toContain("Who may contact you");
  });

  it("'stop' names: a one-tap button for a known insurer, 'did you mean' for a typo, none for a stranger", async () => {
    const u = h.user(8107, { languageCode: "zh" });
    await onboard(u, ["pingan"]);
    const stopOf = (id: string) => u.lastButtons().find((b) => b.startsWith(`stop:${id}:`));
    await u.send("让太平阳别再打电话");
    expect(stopOf("cpic")).toBeDefined();
    const unknown = u.texts(await u.send("stop Geico please"));
    expect(unknown).toContain("Geico");
    // Nothing named that we know: only "everyone" is offered.
    expect(u.lastButtons()).toEqual([expect.stringMatching(/^stop:all:/)]);
    // Nothing is stopped until a button is tapped.
    expect((await stateOf(h, 8107)).optOuts.some((o) => o.reason === "owner_request")).toBe(false);

    await u.send("stop PICC and Ping An");
    // The insurers named, and never "everyone" when some were named.
    expect(u.lastButtons().some((b) => b.startsWith("stop:all"))).toBe(false);
    await u.press(stopOf("pingan")!);
    const stopped = (await stateOf(h, 8107)).optOuts.find((o) => o.insurerId === "pingan" && !o.withdrawnAt);
    expect(stopped?.reason).toBe("owner_request");
  });

  it("'stop all except Ping An' offers everyone else, never Ping An", async () => {
    const u = h.user(8110);
    await onboard(u, ["pingan"]);
    const text = u.texts(await u.send("Stop all except Ping An"));
    // Everyone else was told when the owner agreed; Ping An is kept, and nothing offers to stop it.
    for (const name of ["PICC", "CPIC", "Allianz"]) expect(text).toContain(name);
    expect(text).toContain("Already opted out: Allianz, CPIC, and PICC.");
    const buttons = u.lastButtons();
    expect(buttons.some((b) => b.startsWith("stop:pingan") || b.startsWith("stop:all"))).toBe(false);
  });

  it("a stop button offered before a new consent cannot revoke the window agreed later", async () => {
    const u = h.user(8111);
    await contactAndSkip(u);
    await u.send("stop PICC");
    // The offer, then the open question asked again: the buttons are on the message before.
    const oldMessage = h.fake.sent(8111).at(-2)!;
    const old = JSON.stringify(oldMessage.replyMarkup).match(/stop:picc:[0-9a-f]+/)?.[0];
    expect(old).toBeDefined();
    await u.send("31 July");
    await renewalToSummary(u, ["picc"], "31 July");
    await u.press("ob:agree");
    const pressed = await u.press(old!, oldMessage.messageId);
    expect(pressed.map((m) => m.text ?? "").join("")).not.toContain("told to stop");
    const answer = h.fake.calls.filter((c) => c.method === "answerCallbackQuery").at(-1);
    expect(answer?.payload.text).toContain("already answered");
    expect((await stateOf(h, 8111)).windows.find((w) => w.insurerId === "picc")?.revokedAt).toBeUndefined();
  });

  it("a phone number inside a report is not taken as the owner's number", async () => {
    const u = h.user(8112);
    await u.command("/start");
    const reply = u.texts(await u.send("PICC called me from 13987654321 yesterday, is that legit?"));
    expect(reply).not.toContain("I saved");
    expect((await stateOf(h, 8112)).owner.phone).toBeUndefined();
  });

  it("an old summary's I agree does not agree to a newer draft", async () => {
    const u = h.user(8113);
    await toSummaryFor(u);
    const first = h.fake.sent(8113).at(-1)!;
    await u.send("only PICC");
    await u.press("ob:agree", first.messageId);
    expect((await stateOf(h, 8113)).consent).toBeUndefined();
    expect(u.texts(h.fake.sent(8113).slice(-1))).toContain("out of date");
  });

  it("a change of preferences after consent goes back through the summary and I agree", async () => {
    const u = h.user(8108);
    await onboard(u, ["pingan"]);
    const consent = (await stateOf(h, 8108)).consent;
    const reply = u.texts(await u.send("actually only Allianz"));
    expect(reply).toContain('needs a new "I agree"');
    expect(reply).toContain("Who may contact you: Allianz");
    expect(u.lastButtons()).toEqual(["ob:agree", "ob:name", "ob:change"]);
    expect((await stateOf(h, 8108)).consent?.id).toBe(consent?.id);
    await u.press("ob:agree");
    expect((await stateOf(h, 8108)).consent?.preferences.insurers).toEqual(["allianz"]);
  });

  it("thanks at the car question is not a car, and the same date again after consent changes nothing", async () => {
    const u = h.user(8114);
    await u.command("/start");
    await u.contact("8613812345678");
    const thanks = u.texts(await u.send("thanks"));
    expect(thanks).not.toContain("Saved: thanks");
    expect((await stateOf(h, 8114)).owner.vehicle).toBeUndefined();
    await u.press("ob:vehicle:skip");
    await renewalToSummary(u, ["pingan"]);
    await u.press("ob:agree");
    const again = u.texts(await u.send("31 July"));
    expect(again).toContain("nothing changed");
    expect(await sessionOf(h, 8114)).toMatchObject({ step: "idle", draft: {} });
  });

  it("a 'Yes, I renewed' asked before agreeing cannot close the window agreed after", async () => {
    const u = h.user(8115);
    await contactAndSkip(u);
    await u.send("I already renewed last year with PICC");
    const asked = h.fake.sent(8115).find((m) => JSON.stringify(m.replyMarkup ?? "").includes("rn:yes"));
    const yes = JSON.stringify(asked?.replyMarkup).match(/rn:yes:[0-9a-f]+/)?.[0];
    expect(yes).toBeDefined();
    await u.send("31 July");
    await renewalToSummary(u, ["picc"], "31 July");
    await u.press("ob:agree");
    await u.press(yes!, asked!.messageId);
    const state = await stateOf(h, 8115);
    expect(state.owner.renewedAt).toBeUndefined();
    expect(state.windows.find((w) => w.insurerId === "picc")?.closedAt).toBeUndefined();
  });

  it("an old button after consent is answered as outdated and changes nothing", async () => {
    const u = h.user(8109);
    await onboard(u, ["pingan"]);
    const channelsMessage = h.fake.sent(8109).find((m) => m.text?.includes("How may they contact you?"));
    const consent = (await stateOf(h, 8109)).consent;
    expect(channelsMessage).toBeDefined();
    await u.press("ob:ch:call", channelsMessage!.messageId);
    const answer = h.fake.calls.filter((c) => c.method === "answerCallbackQuery").at(-1);
    expect(answer?.payload.text).toContain("already answered");
    expect((await stateOf(h, 8109)).consent).toEqual(consent);
  });
});

describe("negations, past dates and names", () => {
  let h: BotHarness;
  beforeEach(async () => {
    h = await startBotHarness();
  });
  afterEach(() => h.close());

  /** To the days question with `channels` chosen by buttons. */
  async function toDays(u: ReturnType<BotHarness["user"]>, channels: string[]) {
    await contactAndSkip(u);
    await u.send("31 July");
    await u.press("ob:ins:pingan");
    await u.press("ob:ins-done");
    for (const c of channels) await u.press(`ob:ch:${c}`);
    await u.press("ob:ch-done");
  }

  it("'don't call me' takes call out of the channels chosen and adds none", async () => {
    const u = h.user(8201);
    await toDays(u, ["call", "sms"]);
    const text = u.texts(await u.send("don't call me"));
    expect(text).toContain("Got it: not by call");
    expect((await sessionOf(h, 8201))?.draft.channels).toEqual(["sms"]);
  });

  it("a negation that would leave no channel asks the channel question again", async () => {
    const u = h.user(8202);
    await toDays(u, ["call"]);
    const reply = await u.send("别给我打电话");
    expect(u.texts(reply)).toContain("no way left to contact you");
    expect(reply.at(-1)?.text).toContain("How may they contact you?");
    expect((await sessionOf(h, 8202))?.draft.channels).toBeUndefined();
    // Nothing is ticked for the owner: a negation adds no channel; the refused one is marked.
    const labels = JSON.stringify(reply.at(-1)?.replyMarkup);
    expect(labels).toContain("🚫 call");
    expect(labels).not.toContain("✅");
    await u.press("ob:ch-done");
    expect((await sessionOf(h, 8202))?.draft.channels).toBeUndefined();
    await u.press("ob:ch:sms");
    await u.press("ob:ch-done");
    expect((await sessionOf(h, 8202))?.draft.channels).toEqual(["sms"]);
  });

  it("'不要邮件和Telegram，只要短信' keeps SMS alone", async () => {
    const u = h.user(8203, { languageCode: "zh" });
    await toDays(u, ["telegram", "email"]);
    await u.send("不要邮件和Telegram，只要短信");
    expect((await sessionOf(h, 8203))?.draft.channels).toEqual(["sms"]);
  });

  it("'nobody may call me' is nobody, with no channel in what the bot says", async () => {
    const u = h.user(8204);
    await contactAndSkip(u);
    await u.send("31 July");
    const text = u.texts(await u.send("nobody may call me, I renew through a friend"));
    expect(text).toContain("Nobody");
    expect(text).not.toMatch(/Nobody[^\n]*call/);
    expect((await sessionOf(h, 8204))?.draft).toMatchObject({ nobody: true, insurers: [] });
    expect((await sessionOf(h, 8204))?.draft.channels).toBeUndefined();
  });

  it("a date the text puts in the past is refused with the reason, in both languages", async () => {
    const en = h.user(8205);
    await contactAndSkip(en);
    const reply = await en.send("it expired on 3 November");
    expect(en.texts(reply)).toContain("2026-11-03 is in the past");
    expect(reply.at(-1)?.text).toContain("When does your policy expire?");
    expect((await sessionOf(h, 8205))?.draft.renewalDate).toBeUndefined();

    const zh = h.user(8206, { languageCode: "zh" });
    await contactAndSkip(zh);
    const zhReply = zh.texts(await zh.send("保险上个月28号就到期了"));
    expect(zhReply).toContain("2026-11-28 已经过去了");
    expect((await sessionOf(h, 8206))?.draft.renewalDate).toBeUndefined();
  });

  it("mixed languages in one message still settle the answers", async () => {
    const u = h.user(8207);
    await contactAndSkip(u);
    await u.send("保险 expires 7月31日, only 平安, 发短信 please");
    expect((await sessionOf(h, 8207))?.draft).toMatchObject({
      renewalDate: "2027-07-31",
      insurers: ["pingan"],
      channels: ["sms"],
    });
  });

  it("a 4,096-character ramble with a date and a complaint is a report: nothing is filled in", async () => {
    const u = h.user(8208);
    await contactAndSkip(u);
    const story =
      "PICC called me yesterday at 10pm even though I told them no last month, and my policy expires 31 July. ";
    const ramble = `${story.repeat(Math.ceil(4096 / story.length))}`.slice(0, 4096);
    expect(ramble).toHaveLength(4096);
    const text = u.texts(await u.send(ramble));
    expect(text).toContain("in the name of, PICC");
    expect(await sessionOf(h, 8208)).toMatchObject({ step: "renewalDate", draft: {} });
  });
});

describe("insurer names", () => {
  let h: BotHarness;
  beforeEach(async () => {
    h = await startBotHarness({ seed: false });
    for (const i of DIRECTORY) await h.services.insurers.add({ ...i });
    await h.services.insurers.add({ id: "acme", name: "Acme Insurance", aliases: [], contact: "400-1" });
  });
  afterEach(() => h.close());

  it("a distinctive part of a name chooses the insurer", async () => {
    const u = h.user(8301);
    await contactAndSkip(u);
    const text = u.texts(await u.send("31 July, only Acme may call"));
    expect(text).toContain("Acme Insurance");
    expect((await sessionOf(h, 8301))?.draft.insurers).toEqual(["acme"]);
  });

  it("the insurer picked for an ambiguous name joins the others named, and its button works once", async () => {
    await h.services.insurers.add({ id: "acme-life", name: "Acme Life", aliases: [], contact: "400-2" });
    const u = h.user(8303);
    await contactAndSkip(u);
    await u.send("31 July");
    await u.send("Ping An and Acme");
    await u.press("ob:one:acme-life");
    expect((await sessionOf(h, 8303))?.draft.insurers).toEqual(["pingan", "acme-life"]);
  });

  it("a part that fits several insurers asks which one, one button each", async () => {
    await h.services.insurers.add({ id: "acme-life", name: "Acme Life", aliases: [], contact: "400-2" });
    const u = h.user(8302);
    await contactAndSkip(u);
    await u.send("31 July");
    const reply = u.texts(await u.send("only Acme"));
    expect(reply).toContain('"Acme" fits several insurers');
    const buttons = h.fake
      .sent(8302)
      .flatMap((m) =>
        (
          (m.replyMarkup as { inline_keyboard?: { callback_data?: string }[][] })?.inline_keyboard ?? []
        ).flat(),
      )
      .map((b) => b.callback_data);
    expect(buttons).toEqual(expect.arrayContaining(["ob:one:acme", "ob:one:acme-life"]));
    await u.press("ob:one:acme-life");
    expect((await sessionOf(h, 8302))?.draft.insurers).toEqual(["acme-life"]);
  });
});
