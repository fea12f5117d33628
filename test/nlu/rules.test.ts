import { describe, expect, it } from "vitest";
import type { PreferencePatch, Weekday } from "../../src/domain/preferences.js";
import { createLogger } from "../../src/logger.js";
import { createExtractor } from "../../src/nlu/create-extractor.js";
import { extractWithRules, readWithRules } from "../../src/nlu/rules/index.js";
import { directory, intentDirectory } from "./fixtures/directory.js";

const today = "2026-12-01"; // a Tuesday
const WORKDAYS: Weekday[] = ["mon", "tue", "wed", "thu", "fri"];
const ALL_DAYS: Weekday[] = [...WORKDAYS, "sat", "sun"];

const read = (text: string, lang?: "en" | "zh") =>
  extractWithRules({ text, today, directory, ...(lang ? { lang } : {}) });

const cases: [string, PreferencePatch][] = [
  // renewal dates, English
  ["31 July", { renewalDate: "2027-07-31" }],
  ["July 31", { renewalDate: "2027-07-31" }],
  ["my policy expires end of July", { renewalDate: "2027-07-31" }],
  ["end of next month", { renewalDate: "2027-01-31" }],
  ["end of this month", { renewalDate: "2026-12-31" }],
  ["in 3 weeks", { renewalDate: "2026-12-22" }],
  ["next Friday", { renewalDate: "2026-12-11" }],
  ["15/08/2027", { renewalDate: "2027-08-15" }],
  ["2027-03-15", { renewalDate: "2027-03-15" }],
  ["expires tomorrow", { renewalDate: "2026-12-02" }],
  ["Expires March 15", { renewalDate: "2027-03-15" }],
  ["the 31st of July", { renewalDate: "2027-07-31" }],
  // renewal dates, Chinese
  ["7月31日", { renewalDate: "2027-07-31" }],
  ["7月底到期", { renewalDate: "2027-07-31" }],
  ["下个月底", { renewalDate: "2027-01-31" }],
  ["下个月15号", { renewalDate: "2027-01-15" }],
  ["明年3月10号", { renewalDate: "2027-03-10" }],
  ["2027年5月1日", { renewalDate: "2027-05-01" }],
  ["七月三十一日到期", { renewalDate: "2027-07-31" }],
  ["月底到期", { renewalDate: "2026-12-31" }],
  ["下月底", { renewalDate: "2027-01-31" }],
  ["15号到期", { renewalDate: "2026-12-15" }],
  ["明天到期", { renewalDate: "2026-12-02" }],
  ["下周五到期", { renewalDate: "2026-12-11" }],
  ["两周后到期", { renewalDate: "2026-12-15" }],
  // insurers and nobody
  ["only Ping An", { insurers: ["pingan"] }],
  ["平安", { insurers: ["pingan"] }],
  ["PINGAN please", { insurers: ["pingan"] }],
  ["ＰＩＣＣ", { insurers: ["picc"] }],
  ["ping an insurance", { insurers: ["pingan"] }],
  ["中国平安", { insurers: ["pingan"] }],
  ["Allianz or CPIC", { insurers: ["allianz", "cpic"] }],
  ["安联和太平洋", { insurers: ["allianz", "cpic"] }],
  ["not PICC", { insurers: ["pingan", "cpic", "allianz"] }],
  ["anyone but PICC", { insurers: ["pingan", "cpic", "allianz"] }],
  ["Allianz, but not PICC", { insurers: ["allianz"] }],
  ["nobody except Ping An", { insurers: ["pingan"] }],
  ["only Ping An, nobody else", { insurers: ["pingan"] }],
  ["除了平安都不要", { insurers: ["pingan"] }],
  ["除了人保都可以", { insurers: ["pingan", "cpic", "allianz"] }],
  ["人保不要", { insurers: ["pingan", "cpic", "allianz"] }],
  ["nobody", { nobody: true }],
  ["no one", { nobody: true }],
  ["I renew myself", { nobody: true }],
  ["I'll renew through my own agent, please leave me alone", { nobody: true }],
  ["谁都不要", { nobody: true }],
  ["不需要", { nobody: true }],
  // hours
  ["after 6pm", { hours: [{ from: "18:00" }] }],
  ["after 18:30", { hours: [{ from: "18:30" }] }],
  ["before noon", { hours: [{ to: "12:00" }] }],
  ["9-12", { hours: [{ from: "09:00", to: "12:00" }] }],
  ["between 9 and 11am", { hours: [{ from: "09:00", to: "11:00" }] }],
  ["from 9am to 5pm", { hours: [{ from: "09:00", to: "17:00" }] }],
  ["6-8pm", { hours: [{ from: "18:00", to: "20:00" }] }],
  ["evenings", { hours: [{ from: "18:00", to: "20:00" }] }],
  ["mornings", { hours: [{ from: "09:00", to: "12:00" }] }],
  ["at lunch", { hours: [{ from: "12:00", to: "14:00" }] }],
  [
    "mornings or evenings",
    {
      hours: [
        { from: "09:00", to: "12:00" },
        { from: "18:00", to: "20:00" },
      ],
    },
  ],
  ["晚上6点到8点", { hours: [{ from: "18:00", to: "20:00" }] }],
  ["上午", { hours: [{ from: "09:00", to: "12:00" }] }],
  ["下午2点以后", { hours: [{ from: "14:00" }] }],
  ["9点-12点", { hours: [{ from: "09:00", to: "12:00" }] }],
  ["下午两点到五点", { hours: [{ from: "14:00", to: "17:00" }] }],
  ["晚上8点前", { hours: [{ to: "20:00" }] }],
  ["中午", { hours: [{ from: "12:00", to: "14:00" }] }],
  // days
  ["weekdays", { days: WORKDAYS }],
  ["工作日", { days: WORKDAYS }],
  ["周一到周五", { days: WORKDAYS }],
  ["Monday to Friday", { days: WORKDAYS }],
  ["weekends", { days: ["sat", "sun"] }],
  ["周末", { days: ["sat", "sun"] }],
  ["Wed, Mon", { days: ["mon", "wed"] }],
  ["周二和周四", { days: ["tue", "thu"] }],
  ["except Friday", { days: ["mon", "tue", "wed", "thu", "sat", "sun"] }],
  ["weekdays except Friday", { days: ["mon", "tue", "wed", "thu"] }],
  ["not on weekends", { days: WORKDAYS }],
  ["周末不行", { days: WORKDAYS }],
  ["any day", { days: ALL_DAYS }],
  ["每天", { days: ALL_DAYS }],
  ["on Fridays only", { days: ["fri"] }],
  // channels
  ["text only", { channels: ["sms"] }],
  ["sms", { channels: ["sms"] }],
  ["短信", { channels: ["sms"] }],
  ["call me", { channels: ["call"] }],
  ["telegram", { channels: ["telegram"] }],
  ["email only", { channels: ["email"] }],
  ["发邮件", { channels: ["email"] }],
  // A negation removes only what it names (DESIGN §8).
  ["don't call", { withoutChannels: ["call"] }],
  ["别打电话", { withoutChannels: ["call"] }],
  ["不要打电话", { withoutChannels: ["call"] }],
  ["别给我打电话", { withoutChannels: ["call"] }],
  ["text me, don't call", { channels: ["sms"], withoutChannels: ["call"] }],
  ["只发短信，不要打电话", { channels: ["sms"], withoutChannels: ["call"] }],
  ["不要邮件和Telegram，只要短信", { channels: ["sms"], withoutChannels: ["telegram", "email"] }],
  ["no emails or calls, telegram is best", { channels: ["telegram"], withoutChannels: ["call", "email"] }],
  ["no texts, calls are fine", { channels: ["call"], withoutChannels: ["sms"] }],
  ["邮件就别发了", { withoutChannels: ["email"] }],
  ["发邮件或者电报", { channels: ["telegram", "email"] }],
  // counts
  ["from 2 weeks before", { daysBefore: 14 }],
  ["a month before", { daysBefore: 30 }],
  ["starting 10 days before", { daysBefore: 10 }],
  ["提前10天", { daysBefore: 10 }],
  ["提前一个月", { daysBefore: 30 }],
  ["到期前两周", { daysBefore: 14 }],
  ["at most 2 calls", { maxAttempts: 2 }],
  ["twice", { maxAttempts: 2 }],
  ["no more than 3 attempts", { maxAttempts: 3 }],
  ["最多3次", { maxAttempts: 3 }],
  ["只打一次", { maxAttempts: 1 }],
  // whole messages
  [
    "my insurance runs out end of July, only Ping An may call, after 6 on weekdays",
    { renewalDate: "2027-07-31", insurers: ["pingan"], days: WORKDAYS, hours: [{ from: "18:00" }] },
  ],
  [
    "保险7月底到期，只要平安，工作日晚上发短信就行",
    {
      renewalDate: "2027-07-31",
      insurers: ["pingan"],
      channels: ["sms"],
      days: WORKDAYS,
      hours: [{ from: "18:00", to: "20:00" }],
    },
  ],
  [
    "only Ping An, text me on weekday evenings",
    { insurers: ["pingan"], channels: ["sms"], days: WORKDAYS, hours: [{ from: "18:00", to: "20:00" }] },
  ],
  [
    "weekdays except Friday, 6-8pm, email or telegram, no calls",
    {
      channels: ["telegram", "email"],
      withoutChannels: ["call"],
      days: ["mon", "tue", "wed", "thu"],
      hours: [{ from: "18:00", to: "20:00" }],
    },
  ],
  [
    "Allianz or CPIC, mornings or evenings, at most 3 attempts, starting 3 weeks before expiry",
    {
      insurers: ["allianz", "cpic"],
      hours: [
        { from: "09:00", to: "12:00" },
        { from: "18:00", to: "20:00" },
      ],
      daysBefore: 21,
      maxAttempts: 3,
    },
  ],
  [
    "安联和太平洋，周末下午，提前两周，最多打两次",
    {
      insurers: ["allianz", "cpic"],
      days: ["sat", "sun"],
      hours: [{ from: "13:00", to: "18:00" }],
      daysBefore: 14,
      maxAttempts: 2,
    },
  ],
  [
    "my policy expires on 31/07/2027, call me between 2 and 4pm on Tuesdays and Thursdays",
    {
      renewalDate: "2027-07-31",
      channels: ["call"],
      days: ["tue", "thu"],
      hours: [{ from: "14:00", to: "16:00" }],
    },
  ],
  [
    "到期日是2027-03-15，只要人保和平安，周一至五上午，打电话最多两次，提前20天开始",
    {
      renewalDate: "2027-03-15",
      insurers: ["picc", "pingan"],
      channels: ["call"],
      days: WORKDAYS,
      hours: [{ from: "09:00", to: "12:00" }],
      daysBefore: 20,
      maxAttempts: 2,
    },
  ],
  [
    "Expires March 15. PICC only. Text me after 7.",
    { renewalDate: "2027-03-15", insurers: ["picc"], channels: ["sms"], hours: [{ from: "19:00" }] },
  ],
  ["2027年7月31日到期，谁都不要打电话", { renewalDate: "2027-07-31", withoutChannels: ["call"] }],
  // A choice of nobody carries no channel.
  ["nobody may call me, I renew through a friend", { nobody: true }],
  // A date the text puts in the past stays there, for validation to refuse (DESIGN §8).
  ["it expired on 3 November", { renewalDate: "2026-11-03" }],
  ["保险上个月28号就到期了", { renewalDate: "2026-11-28" }],
  ["我的保险11月3号已经过期了", { renewalDate: "2026-11-03" }],
  // …but a policy about to expire is in the future.
  ["快到期了，7月31日", { renewalDate: "2027-07-31" }],
  // Limits of days and hours are not a choice of nobody.
  ["周末不要联系我", { days: WORKDAYS }],
  ["晚上8点以后不要联系我", { hours: [{ to: "20:00" }] }],
  ["到期前10天内再联系我", { daysBefore: 10 }],
  ["周三 下午3点-5点 电话", { channels: ["call"], days: ["wed"], hours: [{ from: "15:00", to: "17:00" }] }],
  [
    "every day after 7pm via telegram",
    { channels: ["telegram"], days: ALL_DAYS, hours: [{ from: "19:00" }] },
  ],
  ["tomorrow evening is fine", { renewalDate: "2026-12-02", hours: [{ from: "18:00", to: "20:00" }] }],
  // nothing to read
  ["asdf qwerty", {}],
  ["hello there", {}],
  ["sat and sun by the sea", {}],
];

describe("extractWithRules", () => {
  it("covers at least 70 phrasings", () => {
    expect(cases.length).toBeGreaterThanOrEqual(70);
  });

  it.each(cases)("%s", (text, expected) => {
    expect(read(text)).toEqual(expected);
  });

  it("reads the same patch whichever language is hinted", () => {
    const text = "保险7月底到期，只要平安，工作日晚上发短信就行";
    expect(read(text, "zh")).toEqual(read(text, "en"));
  });

  it("resolves a date without a year to the next one on or after today", () => {
    expect(extractWithRules({ text: "July 31", today: "2027-08-01", directory })).toEqual({
      renewalDate: "2028-07-31",
    });
    expect(extractWithRules({ text: "7月底", today: "2027-06-30", directory })).toEqual({
      renewalDate: "2027-07-31",
    });
    expect(extractWithRules({ text: "下个月底", today: "2027-01-31", directory })).toEqual({
      renewalDate: "2027-02-28",
    });
  });

  it("names an insurer by the distinctive part of its name, and asks when the part fits several", () => {
    const only = (text: string, dir = intentDirectory) => extractWithRules({ text, today, directory: dir });
    expect(only("only Acme may call")).toEqual({ insurers: ["acme"] });
    expect(only("只让Acme联系我")).toEqual({ insurers: ["acme"] });
    // "Insurance" says what kind of company, not which one.
    expect(only("insurance, whatever")).toEqual({});
    const two = [
      ...intentDirectory,
      { id: "acme-life", name: "Acme Life", aliases: [] },
      { id: "sun", name: "阳光保险", aliases: [] },
    ];
    expect(only("only Acme may call", two)).toEqual({});
    expect(readWithRules({ text: "only Acme may call", today, directory: two })).toEqual({
      intent: "preferences",
      patch: {},
      ambiguous: [{ text: "Acme", candidates: ["acme", "acme-life"] }],
    });
    // A full name is never ambiguous.
    expect(only("only Acme Life", two)).toEqual({ insurers: ["acme-life"] });
    expect(only("只要阳光", two)).toEqual({ insurers: ["sun"] });
  });

  it("ignores a Latin name inside another word", () => {
    expect(read("picchu trip, allianzed")).toEqual({});
  });
});

describe("createExtractor without an LLM", () => {
  it("is named rules and resolves to the same patch, as a preferences reading", async () => {
    const extractor = createExtractor({ logger: createLogger("silent") });
    expect(extractor.name).toBe("rules");
    await expect(extractor.read({ text: "only Ping An", today, directory })).resolves.toEqual({
      intent: "preferences",
      patch: { insurers: ["pingan"] },
    });
  });
});
