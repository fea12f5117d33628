import { EN_NUM, NUM, type RuleResult, type Span, toNumber } from "./text.js";

/** What the counts in a message settle. */
export interface NumbersReading {
  daysBefore?: number;
  maxAttempts?: number;
}

const UNIT_DAYS: Record<string, number> = { day: 1, week: 7, wk: 7, month: 30, mo: 30 };

function enUnit(unit: string): number {
  return UNIT_DAYS[unit.toLowerCase().replace(/s$/, "")] ?? 1;
}

function zhUnit(unit: string): number {
  if (unit.endsWith("月")) return 30;
  if (/周|星期|礼拜/.test(unit)) return 7;
  return 1;
}

interface Rule {
  field: keyof NumbersReading;
  re: RegExp;
  read(m: RegExpExecArray): number | undefined;
}

// Counts of attempts: "a call" is a way of speaking, not a cap, so no "a"/"an" here.
const EN_COUNT = "(?:\\d{1,3}|one|two|three|four|five|six|seven|eight|nine|ten)";
const ATTEMPTS = "calls?|times|attempts?|tries|messages?|texts?|contacts?";

const count = (raw: string | undefined, unit: number) => {
  const n = toNumber(raw ?? "");
  return n === undefined ? undefined : n * unit;
};

const RULES: Rule[] = [
  {
    field: "daysBefore",
    re: new RegExp(
      `\\b(${EN_NUM})\\s*(days?|weeks?|wks?|months?|mos?)\\s+(?:before|prior|ahead|in advance|earlier|out)\\b`,
      "gi",
    ),
    read: (m) => count(m[1], enUnit(m[2] ?? "")),
  },
  {
    field: "daysBefore",
    re: new RegExp(
      `\\b(?:within|in|during) the (?:last|final)\\s+(?:(${EN_NUM})\\s+)?(days?|weeks?|months?)\\b`,
      "gi",
    ),
    read: (m) => count(m[1] ?? "1", enUnit(m[2] ?? "")),
  },
  {
    field: "daysBefore",
    re: new RegExp(`(?:提前|到期前|过期前)\\s*(${NUM})?\\s*(天|日|周|个?星期|个?礼拜|个?月)`, "g"),
    read: (m) => count(m[1] ?? "一", zhUnit(m[2] ?? "")),
  },
  {
    field: "daysBefore",
    re: /(?:提前|到期前|过期前)\s*半个?月|\bhalf a month\s+(?:before|ahead|prior|in advance|earlier|out)\b/gi,
    read: () => 15,
  },
  {
    field: "maxAttempts",
    re: new RegExp(
      `\\b(?:at most|max(?:imum)?(?: of)?|no more than|not more than|up to|limit(?: of)?|a limit of)\\s+(${EN_COUNT})\\s*(?:${ATTEMPTS})?\\b(?!\\s*(?:days?|weeks?|months?|before|pm|am|:))`,
      "gi",
    ),
    read: (m) => count(m[1], 1),
  },
  {
    field: "maxAttempts",
    re: new RegExp(`\\b(?:(?:only|just)\\s+)?(${EN_COUNT})\\s+(?:${ATTEMPTS})\\b`, "gi"),
    read: (m) => count(m[1], 1),
  },
  {
    field: "maxAttempts",
    re: /\b(?:(?:only|just|at most|max(?:imum)?) once|once only|call me once)\b|\btwice\b(?!\s+(?:a|per|every|daily|weekly)\b)/gi,
    read: (m) => (/twice/i.test(m[0]) ? 2 : 1),
  },
  {
    field: "maxAttempts",
    re: new RegExp(
      `(?:最多|至多|顶多|不超过|不能超过|不得超过|别超过|不要超过|只能|只|仅|限)\\s*(?:打|联系|发|来)?\\s*(${NUM})\\s*(?:次|遍|回)|(${NUM})\\s*次(?:以内|为限|就够|就好|就行|就可以)`,
      "g",
    ),
    read: (m) => count(m[1] ?? m[2], 1),
  },
];

/**
 * How many days before expiry contact may start ("from 2 weeks before" → 14, "a month before"
 * → 30, "提前10天") and the attempt cap ("at most 2 calls", "twice", "最多3次"). The first
 * reading of each field wins.
 */
export function extractNumbers(text: string): RuleResult<NumbersReading> {
  const value: NumbersReading = {};
  const spans: Span[] = [];
  for (const rule of RULES) {
    for (const m of text.matchAll(rule.re)) {
      const n = rule.read(m);
      if (n === undefined || (rule.field === "maxAttempts" && n < 1)) continue;
      value[rule.field] ??= n;
      spans.push({ start: m.index, end: m.index + m[0].length });
    }
  }
  return { value: Object.keys(value).length > 0 ? value : undefined, spans };
}
