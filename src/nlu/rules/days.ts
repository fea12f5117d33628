import { WEEKDAYS, type Weekday } from "../../domain/preferences.js";
import type { RuleResult, Span } from "./text.js";

const ALL: readonly Weekday[] = WEEKDAYS;
const WORKDAYS: readonly Weekday[] = ["mon", "tue", "wed", "thu", "fri"];
const WEEKEND: readonly Weekday[] = ["sat", "sun"];

const EN_DAY =
  "(?:mon(?:day)?|tue(?:s(?:day)?)?|wed(?:nesday)?|thu(?:r(?:s(?:day)?)?)?|fri(?:day)?|sat(?:urday)?|sun(?:day)?)s?";
const ZH_DAY = "(?:周|星期|礼拜)(?:[一二三四五六日天1-7])";
const DAY = `(?:\\b${EN_DAY}\\b|${ZH_DAY})`;

// Built once; matchAll matches on a copy, so sharing them is safe.
const GROUPS: { re: RegExp; days: readonly Weekday[] }[] = [
  { re: /\b(?:week ?days?|work ?days|working days|business days)\b|工作日|上班日/gi, days: WORKDAYS },
  { re: /\bweek-?ends?\b|周末|双休日?|星期六日/gi, days: WEEKEND },
  {
    re: /\b(?:any ?day|every ?day|daily|all week|7 days a week|seven days a week)\b|每天|天天|每日|任何一天|哪天都(?:行|可以)/gi,
    days: ALL,
  },
];
const RANGES = new RegExp(
  `(${DAY})\\s*(?:-|–|~|to|through|thru|until|till|到|至)\\s*(${DAY}|[一二三四五六日天])`,
  "gi",
);
const ONE_DAY = new RegExp(DAY, "gi");

function dayOf(token: string): Weekday | undefined {
  // Lower-case "sat" and "sun" are ordinary words; only "Sat"/"Sun" name days.
  if (/^s(?:at|un)s?$/.test(token)) return undefined;
  const zh = token.length === 1 ? token : /(?:周|星期|礼拜)(.)/.exec(token)?.[1];
  if (zh) return ALL["一二三四五六日".indexOf(zh === "天" ? "日" : zh)] ?? ALL[Number(zh) - 1];
  const t = token.toLowerCase();
  return ALL.find((d) => t.startsWith(d));
}

function between(a: Weekday, b: Weekday): Weekday[] {
  const i = ALL.indexOf(a);
  const n = (ALL.indexOf(b) - i + 7) % 7;
  return Array.from({ length: n + 1 }, (_, k) => ALL[(i + k) % 7] as Weekday);
}

const EXCLUDE_BEFORE =
  /(?:\b(?:except(?: on| for)?|but not(?: on)?|(?:day|days|time|week) but(?: on)?|not(?: on)?|no|never(?: on)?|excluding|apart from|busy(?: on)?|(?:no|never|don'?t|do not) (?:calls?|calling|contact|texts?|messages?|call me|text me|contact me)(?: on)?)\s+|除了|不要在|不想在|不要|别在|不在|不能在|不包括)\s*$/i;
// "周末不要打": the refusal belongs to the days, so it is consumed with them (no channel is refused).
const EXCLUDE_AFTER =
  /^\s*(?:no\b|not ok\b|not okay\b|not fine\b|is out\b|不行|不要(?:打电话|打|联系|来电)?|不可以|除外|别打电话|别打|别联系|不方便|休息|没空|不在)/;

/**
 * Days of the week contact may happen on: "weekdays"/"工作日"/"周一到周五", "weekends"/"周末",
 * "Mon, Wed", "周二和周四", "any day"/"每天", and exclusions ("except Friday" alone means every
 * other day; "weekdays except Friday" narrows the named ones). Mon..sun order, no duplicates.
 */
export function extractDays(text: string): RuleResult<Weekday[]> {
  const include = new Set<Weekday>();
  const exclude = new Set<Weekday>();
  const spans: Span[] = [];
  let rest = text;
  const visit = (re: RegExp, daysOf: (m: RegExpExecArray) => readonly Weekday[]) => {
    for (const m of rest.matchAll(re)) {
      const days = daysOf(m);
      if (days.length === 0) continue;
      const span = { start: m.index, end: m.index + m[0].length };
      // Context from the text as given ("any day but Sunday" reads "day but" before Sunday).
      const before = text.slice(Math.max(0, span.start - 24), span.start);
      const after = text.slice(span.end, span.end + 8);
      const pre = EXCLUDE_BEFORE.exec(before);
      const post = EXCLUDE_AFTER.exec(after);
      const target = pre || post ? exclude : include;
      for (const d of days) target.add(d);
      // The exclusion words go with the days, so "no calls on weekends" refuses no channel.
      spans.push({ start: span.start - (pre?.[0].length ?? 0), end: span.end + (post?.[0].length ?? 0) });
      rest = rest.slice(0, span.start) + " ".repeat(span.end - span.start) + rest.slice(span.end);
    }
  };
  visit(RANGES, (m) => {
    const a = dayOf(m[1] ?? "");
    const b = dayOf(m[2] ?? "");
    return a && b ? between(a, b) : [];
  });
  for (const group of GROUPS) visit(group.re, () => group.days);
  // "周一三五", "星期二、四": one prefix, several days.
  visit(/(?:周|星期|礼拜)([一二三四五六日天](?:[、,，和及]?[一二三四五六日天])+)/g, (m) =>
    [...(m[1] ?? "").replace(/[、,，和及]/g, "")].flatMap((c) => dayOf(c) ?? []),
  );
  visit(ONE_DAY, (m) => {
    const d = dayOf(m[0]);
    return d ? [d] : [];
  });

  const base = include.size > 0 ? include : exclude.size > 0 ? new Set(ALL) : include;
  const days = ALL.filter((d) => base.has(d) && !exclude.has(d));
  return { value: days.length > 0 ? days : undefined, spans };
}
