/** Shared steps for the bot tests: a user driven through the harness, and store look-ups. */
import { expect } from "vitest";
import type { Draft } from "../../src/domain/preferences.js";
import type { SentMessage } from "../fakes/telegram-server.js";
import type { BotHarness } from "../support/bot-harness.js";

export const PHONE = "+8613812345678";
export const DIGITS = "13812345678";

export type SimOwner = ReturnType<BotHarness["user"]>;

/** Shares the user's own contact and skips the vehicle question: the bot now asks for the date. */
export async function contactAndSkip(u: SimOwner, phone = PHONE): Promise<void> {
  await u.command("/start");
  await u.contact(phone.slice(1));
  await u.press("ob:vehicle:skip");
}

/** From /start to the summary by buttons, choosing `insurers` (or nobody when empty). */
export async function toSummary(u: SimOwner, insurers: string[] = ["pingan"]): Promise<SentMessage[]> {
  await contactAndSkip(u);
  return renewalToSummary(u, insurers);
}

/** From the renewal-date question to the summary by buttons (SMS, weekday evenings, 30 days, 3). */
export async function renewalToSummary(
  u: SimOwner,
  insurers: string[] = ["pingan"],
  renewal = "31 July",
): Promise<SentMessage[]> {
  await u.send(renewal);
  if (insurers.length === 0) return u.press("ob:ins-nobody");
  for (const id of insurers) await u.press(`ob:ins:${id}`);
  await u.press("ob:ins-done");
  return howToSummary(u);
}

/** From the channels question to the summary by buttons: `channels`, weekday evenings, 30 days, `attempts`. */
export async function howToSummary(
  u: SimOwner,
  { channels = ["sms"], attempts = 3 }: { channels?: string[]; attempts?: number } = {},
): Promise<SentMessage[]> {
  for (const c of channels) await u.press(`ob:ch:${c}`);
  await u.press("ob:ch-done");
  await u.press("ob:days:weekdays");
  await u.press("ob:days-done");
  await u.press("ob:hr:evening");
  await u.press("ob:hr-done");
  await u.press("ob:db:30");
  return u.press(`ob:att:${attempts}`);
}

/** Onboards a user through "I agree". */
export async function onboard(u: SimOwner, insurers: string[] = ["pingan"]): Promise<SentMessage[]> {
  await toSummary(u, insurers);
  // "Share my name" is offered only when the contact card carried one.
  expect(u.lastButtons()).toEqual(expect.arrayContaining(["ob:agree", "ob:change"]));
  return u.press("ob:agree");
}

export async function ownerOf(h: BotHarness, telegramUserId: number) {
  const owner = await h.services.store.getOwnerByTelegramId(telegramUserId);
  if (!owner) throw new Error(`no owner for ${telegramUserId}`);
  return owner;
}

export async function stateOf(h: BotHarness, telegramUserId: number) {
  return h.services.store.getOwnerState((await ownerOf(h, telegramUserId)).id);
}

/** The stored session of a private chat (grammY's key is the chat id). */
/** The stored session of a chat, as the bot left it (undefined when there is none). */
export async function sessionOf(
  h: BotHarness,
  chatId: number,
): Promise<(Record<string, unknown> & { step?: string; draft: Draft }) | undefined> {
  const raw = await h.services.store.readSession(String(chatId));
  return raw === undefined ? undefined : (JSON.parse(raw) as Record<string, unknown> & { draft: Draft });
}
