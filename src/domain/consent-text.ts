/**
 * The text an owner agrees to, one per chosen insurer (PIPL Art. 23 separate consent): the
 * recipient and its contact line, the purpose, the method, the data categories, how to stop,
 * and what every other insurer is told. Its SHA-256 goes into the consent and the receipt, so
 * the exact words are provable later; bump {@link CONSENT_TEXT_VERSION} on any wording change.
 */
import { createHash } from "node:crypto";
import { insurerName } from "./insurer-name.js";
import type { Language } from "./model.js";
import type { PolicyPack } from "./policy-packs.js";
import type { Channel, HourRange, Preferences, Weekday } from "./preferences.js";
import { localDateOf } from "./time.js";
import { durationText, listOf, zoneName } from "./wording.js";

/** Version of the wording below; part of every consent and receipt. */
export const CONSENT_TEXT_VERSION = "2026-12";

/** Personal data an insurer receives with a window. */
export type DataCategory = "phone" | "name" | "vehicle" | "renewal_date";

/**
 * The categories an owner's window carries: phone and renewal date always, the car if given,
 * the name only when the owner chose to share it (Telegram's profile name is not theirs to
 * hand on unasked).
 */
export function dataCategoriesFor(
  owner: { name?: string; vehicle?: string },
  prefs: { shareName?: boolean },
): DataCategory[] {
  const out: DataCategory[] = ["phone"];
  if (owner.name && prefs.shareName) out.push("name");
  if (owner.vehicle) out.push("vehicle");
  out.push("renewal_date");
  return out;
}

export interface ConsentTextInput {
  language: Language;
  /** Only an insurer with a contact line can be consented to (PIPL Art. 23, DESIGN §3). */
  insurer: { id: string; name: string; nameZh?: string; contact: string };
  preferences: Preferences;
  /** The window as planned (see planWindowTimes), ISO UTC. */
  opensAt: string;
  timezone: string;
  dataCategories: readonly DataCategory[];
  pack: PolicyPack;
}

const WORDS = {
  en: {
    channel: { call: "phone call", sms: "SMS", telegram: "Telegram", email: "e-mail" } as Record<
      Channel,
      string
    >,
    day: { mon: "Mon", tue: "Tue", wed: "Wed", thu: "Thu", fri: "Fri", sat: "Sat", sun: "Sun" } as Record<
      Weekday,
      string
    >,
    data: {
      phone: "phone number",
      name: "name",
      vehicle: "vehicle",
      renewal_date: "policy renewal date",
    } as Record<DataCategory, string>,
    everyDay: "every day",
    weekdays: "Monday to Friday",
    weekend: "Saturday and Sunday",
  },
  zh: {
    channel: { call: "电话", sms: "短信", telegram: "Telegram", email: "电子邮件" } as Record<
      Channel,
      string
    >,
    day: {
      mon: "周一",
      tue: "周二",
      wed: "周三",
      thu: "周四",
      fri: "周五",
      sat: "周六",
      sun: "周日",
    } as Record<Weekday, string>,
    data: { phone: "手机号码", name: "姓名", vehicle: "车辆信息", renewal_date: "保单到期日" } as Record<
      DataCategory,
      string
    >,
    everyDay: "每天",
    weekdays: "周一至周五",
    weekend: "周六和周日",
  },
} as const;

function daysText(days: readonly Weekday[], lang: Language): string {
  const w = WORDS[lang];
  const key = days.join(",");
  if (days.length === 7) return w.everyDay;
  if (key === "mon,tue,wed,thu,fri") return w.weekdays;
  if (key === "sat,sun") return w.weekend;
  return listOf(
    days.map((d) => w.day[d]),
    lang,
  );
}

function hoursText(hours: readonly HourRange[], lang: Language): string {
  return listOf(
    hours.map((h) => `${h.from}–${h.to}`),
    lang,
  );
}

function suppressionText(pack: PolicyPack, lang: Language): string {
  const days = pack.optOutDays.value;
  if (lang === "zh") return days === null ? "直到我撤回为止" : `${durationText(days, lang)}内`;
  return days === null ? "until I withdraw it" : `for ${durationText(days, lang)}`;
}

/** "at most 1 attempt", "at most 3 attempts, at most 2 a day": a daily cap only where it binds. */
function attemptsText(total: number, perDay: number | null, lang: Language): string {
  const daily = perDay !== null && perDay < total ? perDay : undefined;
  if (lang === "zh") return `共最多 ${total} 次${daily === undefined ? "" : `，每天最多 ${daily} 次`}`;
  const head = `at most ${total} ${total === 1 ? "attempt" : "attempts"} in total`;
  return daily === undefined ? head : `${head}, at most ${daily} a day`;
}

function honourText(pack: PolicyPack, lang: Language): string {
  const n = pack.honourWithinBusinessDays.value;
  if (lang === "zh") return n === 0 ? "立即停止" : `在${n}个工作日内停止`;
  return n === 0 ? "stop at once" : `stop within ${n} business days`;
}

/**
 * The consent text for one insurer, in `en` or `zh`. Deterministic: the same input always
 * renders the same string, so its hash identifies what the owner read.
 */
export function renderConsentText(input: ConsentTextInput): string {
  const { language: lang, insurer, preferences: p, pack } = input;
  const w = WORDS[lang];
  const name = insurerName(insurer, lang);
  // The contact closes a sentence: its own final stop is dropped, not doubled.
  const contact = insurer.contact.trim().replace(/[.。]+$/u, "");
  const channels = listOf(
    p.channels.map((c) => w.channel[c]),
    lang,
  );
  const data = listOf(
    input.dataCategories.map((d) => w.data[d]),
    lang,
  );
  const from = localDateOf(new Date(input.opensAt), input.timezone);
  const attempts = attemptsText(p.maxAttempts, pack.maxAttemptsPerDay.value, lang);
  const days = daysText(p.days, lang);
  const hours = hoursText(p.hours, lang);
  const zone = zoneName(input.timezone, lang);
  const retention = durationText(pack.consentRetentionYears.value * 365, lang);
  if (lang === "zh") {
    return [
      `单独同意：${name}`,
      `我同意 onewindow 向${name}提供我的${data}，仅用于向我提供车险续保报价（保单于 ${p.renewalDate} 到期）。`,
      `${name}的联系方式：${contact}。`,
      `可联系的方式与时间：${channels}；${days}；${hours}（${zone}）；${from} 至 ${p.renewalDate}；${attempts}。`,
      "对方联系我时须报出我收到的核验码。",
      `我可随时一键停止（/stop 或消息中的链接）；对方须${honourText(pack, lang)}。`,
      `其他所有保险公司将收到拒绝联系通知，${suppressionText(pack, lang)}不得联系我。`,
      `本同意记录以签名凭证保存${retention}。文本版本 ${CONSENT_TEXT_VERSION}。`,
    ].join("\n");
  }
  return [
    `Separate consent: ${name}`,
    `I agree that onewindow gives ${name} my ${data}, for one purpose only: offering me the renewal of my car-insurance policy that expires on ${p.renewalDate}.`,
    `${name}'s contact line: ${contact}.`,
    `How: ${channels}; ${days}; ${hours} (${zone}); from ${from} to ${p.renewalDate}; ${attempts}.`,
    "Their agent must quote the verification code I was given.",
    `I can stop them at any time with one tap (/stop or the link in my messages); they must then ${honourText(pack, lang)}.`,
    `Every other insurer is told not to contact me ${suppressionText(pack, lang)}.`,
    `This consent is kept as a signed receipt for ${retention}. Text version ${CONSENT_TEXT_VERSION}.`,
  ].join("\n");
}

/** SHA-256 hex of a consent text (UTF-8): what consents and receipts record. */
export function consentTextHash(text: string): string {
  return createHash("sha256").update(text, "utf8").digest("hex");
}
